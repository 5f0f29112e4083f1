"""Fixtures of the deployment tests (helpers live in chart_support)."""

from __future__ import annotations

from typing import Any

import pytest
from chart_support import VALUE_SETS, render


@pytest.fixture(scope="session")
def rendered_sets() -> dict[str, tuple[list[dict[str, Any]], str]]:
    """Every value set rendered once for the session."""
    return {name: render(values) for name, values in VALUE_SETS.items()}


@pytest.fixture(scope="session")
def default_objects(rendered_sets) -> list[dict[str, Any]]:
    return rendered_sets["defaults"][0]

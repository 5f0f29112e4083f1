"""Database-backed rate limits: the rate strings they read."""

from __future__ import annotations

import pytest

from users.throttling import parse_rate


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("60/hour", (60, 3600)), ("5/min", (5, 60)), ("10/s", (10, 1)), ("2/day", (2, 86400))],
)
def test_parse_rate_reads_count_and_period(rate, expected):
    assert parse_rate(rate) == expected

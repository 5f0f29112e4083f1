"""The folder of prometheus_client's multiprocess files (``PROMETHEUS_MULTIPROC_DIR``).

Kept apart from ``ecommerce_common.metrics`` so that gunicorn's master process can empty the
folder at start without importing Django.
"""

from __future__ import annotations

import os

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def clean_multiprocess_dir(path: str) -> None:
    """Create ``path`` and remove the files a previous run left there (their counters would
    otherwise be added to this run's)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))

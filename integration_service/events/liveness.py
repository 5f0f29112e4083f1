"""Worker liveness: the heartbeat file the worker touches, and the check Kubernetes runs.

Usage (exec probe, in the service folder): ``python -m events.liveness [--max-age SECONDS]``.
Exit 0 when the heartbeat is fresh, 1 otherwise. It imports neither Django nor Celery, so
it is cheap enough to run every few seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_FILE = "var/worker-heartbeat"


def touch(path: str) -> None:
    """Record that the worker is alive now (atomic replace, so a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_text(f"{time.time():.3f}\n")
    os.replace(temporary, target)


def heartbeat_age(path: str) -> float | None:
    """Seconds since the last heartbeat, or None when there never was one."""
    try:
        return time.time() - Path(path).stat().st_mtime
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fail when the worker heartbeat is stale.")
    parser.add_argument("--file", default=os.environ.get("WORKER_HEARTBEAT_FILE", DEFAULT_FILE))
    parser.add_argument(
        "--max-age",
        type=float,
        default=float(os.environ.get("WORKER_HEARTBEAT_MAX_AGE", "60")),
        help="seconds after which the heartbeat counts as stale",
    )
    args = parser.parse_args(argv)
    age = heartbeat_age(args.file)
    if age is None:
        print(f"no worker heartbeat at {args.file}", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"worker heartbeat is {age:.0f}s old (limit {args.max_age:.0f}s)", file=sys.stderr)
        return 1
    print(f"worker alive (heartbeat {age:.1f}s ago)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

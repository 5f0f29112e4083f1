"""Turn bench/results/results.json (as run.py builds it) into bench/RESULTS.md.

The sections are in ``report_sections``; :func:`render` joins them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from report_sections import SECTIONS, Report


def write_report(results: dict, path: Path, *, complete: bool) -> None:
    path.write_text(render(results, complete=complete))


def render(results: dict, *, complete: bool) -> str:
    report = Report(results, complete=complete)
    return "\n".join(line for section in SECTIONS for line in section(report))


if __name__ == "__main__":
    source = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).parent / "results" / "results.json"
    )
    print(render(json.loads(source.read_text()), complete=True))

"""bench/report.py renders RESULTS.md from a run's results, one section a scenario that ran."""

from __future__ import annotations

import report
from scenarios import SCENARIOS


def _stats(rps: float) -> dict:
    row = {"requests": 100, "failures": 0, "rps": rps, "avg": 2.0}
    row.update(p50=2.0, p95=4.0, p99=8.0, max=9.0)
    return {"total": row, "by_name": {"GET /ceiling": row}, "cpu_cores": {"ceiling": 0.5}}


def test_a_partial_run_is_marked_and_shows_only_the_sections_of_its_scenarios():
    results = {"scenarios": {"ceiling": _stats(1000.0)}, "options": {"users": "8"}}

    text = report.render(results, complete=False)

    assert text.startswith("# Benchmark results\n\n> **Incomplete run**")
    assert "| Ceiling: trivial Django view, same gunicorn config | 1,000.0 | 100.0% |" in text
    assert "### Ceiling: trivial Django view, same gunicorn config" in text
    for absent in ("## Order placement", "## Worker throughput", "## Profiles"):
        assert absent not in text
    assert text.endswith('Options of this run: `{"users": "8"}`\n')


def test_the_scenarios_run_in_the_order_the_later_ones_rely_on():
    names = list(SCENARIOS)

    assert names[0] == "ceiling"  # the denominator of every ratio
    assert names.index("catalogue") < names.index("catalogue_nocache")
    assert names.index("orders") < min(names.index(n) for n in ("history", "nocache", "latency"))


def test_the_uncached_list_query_is_judged_by_its_machine_cpu_per_request():
    cheap, costly = _stats(100.0), _stats(100.0)
    cheap["cpu_cores"] = {"product_service": 0.3, "secantusdb": 0.4, "locust": 0.05}
    costly["cpu_cores"] = {"product_service": 0.4, "secantusdb": 0.5}
    title = "Catalogue list with filters only, catalogue cache off"

    for stats, cpu, met in ((cheap, "7.5", "**yes**"), (costly, "9.0", "**NO**")):
        results = {"scenarios": {"ceiling": _stats(1000.0), "catalogue_list_nocache": stats}}
        text = report.render(results, complete=False)

        row = next(line for line in text.splitlines() if line.startswith(f"| {title} |"))
        assert "| ≤ 8 ms CPU per request | " + met + " |" in row
        assert row.endswith(f"| 0 | {cpu} |")

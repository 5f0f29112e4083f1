"""bench/charts.py draws a run's PNG charts from its raw results and links them from the report."""

from __future__ import annotations

import json

import charts
from matplotlib import image

HISTORY_HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size"
)


def _history_row(second: int, kind: str, name: str, rps: float, p50: str, count: int) -> str:
    p95 = "N/A" if p50 == "N/A" else str(int(p50) * 2)
    return (
        f"{1795512865 + second},8,{kind},{name},{rps},0.0,{p50},{p50},{p50},{p50},{p95},{p95},"
        f"{p95},{p95},{p95},{p95},{p95},{count},0,{p50},10.0,1.0,99.0,100"
    )


def _raw_results(folder) -> None:
    """What bench/run.py leaves for two scenarios, in its formats (a few seconds of each)."""
    for scenario in ("catalogue", "orders"):
        rows = [HISTORY_HEADER, _history_row(0, "", "Aggregated", 0.0, "N/A", 0)]
        for second in range(1, 6):
            rows.append(_history_row(second, "GET", "/product/", 40.0 + second, "12", 40 * second))
            rows.append(_history_row(second, "POST", "/orders", 9.0, "30", 9 * second))
            rows.append(_history_row(second, "", "Aggregated", 49.0 + second, "15", 49 * second))
        (folder / f"{scenario}_stats_history.csv").write_text("\n".join(rows) + "\n")
    cpu = {"product_service": 0.8, "secantusdb": 0.3, "locust": 0.2, "worker": 0.0}
    results = {
        "scenarios": {
            "catalogue": {"cpu_cores": {**cpu, "machine (all processes)": 1.4}},
            "orders": {"cpu_cores": {**cpu, "order_service": 0.9, "machine (all processes)": 2}},
            "worker": {"runs": []},
        }
    }
    (folder / "results.json").write_text(json.dumps(results))
    latencies = [100 + (i * 37) % 900 for i in range(200)]
    (folder / "latency-confirmation-ms.json").write_text(json.dumps(latencies))


def _is_a_drawn_png(path) -> bool:
    pixels = image.imread(path)
    return (
        path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        and pixels.shape[0] > 200
        and (
            pixels.std() > 0.05  # not a blank canvas
        )
    )


def test_a_run_gets_throughput_latency_cpu_and_confirmation_charts_linked_from_its_report(
    tmp_path,
):
    results = tmp_path / "results"
    results.mkdir()
    _raw_results(results)
    report = tmp_path / "RESULTS.md"
    report.write_text("# Benchmark results\n\nFigures.\n")

    drawn = charts.add_to_report(report, results)

    names = sorted(chart.path.name for chart in drawn)
    assert names == [
        "chart-catalogue-over-time.png",
        "chart-confirmation-latency.png",
        "chart-cpu-per-part.png",
        "chart-orders-over-time.png",
    ]
    for chart in drawn:
        assert chart.path.parent == results
        assert _is_a_drawn_png(chart.path), chart.path
    text = report.read_text()
    assert text.startswith("# Benchmark results\n\nFigures.\n")
    for name in names:
        assert f"](results/{name})" in text


def test_drawing_again_replaces_the_charts_section_instead_of_adding_one(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    _raw_results(results)
    report = tmp_path / "RESULTS.md"
    report.write_text("# Benchmark results\n")

    charts.add_to_report(report, results)
    once = report.read_text()
    charts.add_to_report(report, results)

    assert report.read_text() == once
    assert once.count(charts.SECTION) == 1


def test_a_partial_run_gets_the_charts_its_raw_results_allow(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    _raw_results(results)
    (results / "latency-confirmation-ms.json").unlink()
    (results / "orders_stats_history.csv").write_text(HISTORY_HEADER + "\n")

    drawn = charts.draw(results)

    assert sorted(chart.path.name for chart in drawn) == [
        "chart-catalogue-over-time.png",
        "chart-cpu-per-part.png",
    ]

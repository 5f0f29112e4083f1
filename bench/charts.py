"""PNG charts of one benchmark run, drawn from its raw results, linked from its report.

Reads what ``bench/run.py`` leaves in the raw results folder (``bench/results/``):

- ``<scenario>_stats_history.csv`` (locust ``--csv --csv-full-history``): requests and
  failures per second, and latency percentiles, over time, per scenario;
- ``results.json``: the CPU each part of the system used in each scenario (cores);
- ``latency-confirmation-ms.json``: payment → confirmed per order, in milliseconds.

and writes ``chart-*.png`` beside them, then a "Charts" section at the end of the report
(replaced when drawn again). ``./manage_all.sh bench`` does it after each run; to redraw from
the raw results already on disk: ``python bench/charts.py [RESULTS_DIR] [REPORT]``.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # after the backend is chosen

BENCH = Path(__file__).resolve().parent
SECTION = "## Charts"
# Shown per request name on the latency panel (the busiest ones), besides the aggregate.
MAX_NAMES = 5
# results.json's whole-machine figures: drawn as a marker, not as a part of the stack.
MACHINE = "machine (all processes)"


@dataclass(frozen=True)
class Chart:
    title: str
    path: Path


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None  # locust writes N/A before the first response


def read_history(path: Path) -> dict[str, list[dict[str, float | None]]]:
    """Rows of a locust stats history, by request name ("Aggregated" for the whole run),
    with the seconds since the first row."""
    by_name: dict[str, list[dict[str, float | None]]] = {}
    start = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            timestamp = _number(row["Timestamp"])
            if timestamp is None:
                continue
            start = timestamp if start is None else start
            name = row["Name"] if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
            by_name.setdefault(name, []).append(
                {
                    "t": timestamp - start,
                    "rps": _number(row["Requests/s"]),
                    "fps": _number(row["Failures/s"]),
                    "p50": _number(row["50%"]),
                    "p95": _number(row["95%"]),
                    "p99": _number(row["99%"]),
                    "count": _number(row["Total Request Count"]) or 0,
                }
            )
    return by_name


def _series(rows: list[dict], key: str) -> tuple[list[float], list[float]]:
    points = [(row["t"], row[key]) for row in rows if row[key] is not None]
    return [t for t, _ in points], [value for _, value in points]


def draw_over_time(scenario: str, history: Path, out: Path) -> Chart | None:
    by_name = read_history(history)
    total = by_name.pop("Aggregated", [])
    if len(total) < 2:
        return None
    figure, (load, latency) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    load.plot(*_series(total, "rps"), label="requests/s", color="tab:blue")
    load.plot(*_series(total, "fps"), label="failures/s", color="tab:red")
    load.set_ylabel("per second")
    load.legend(loc="upper left")
    load.grid(alpha=0.3)
    for key, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
        latency.plot(*_series(total, key), style, color="black", label=f"all, {key}")
    busiest = sorted(by_name, key=lambda name: by_name[name][-1]["count"], reverse=True)
    for name in busiest[:MAX_NAMES]:
        latency.plot(*_series(by_name[name], "p95"), linewidth=1, alpha=0.8, label=f"{name}, p95")
    latency.set_ylabel("latency (ms)")
    latency.set_xlabel("seconds since start")
    latency.set_ylim(bottom=0)
    latency.legend(loc="upper left", fontsize="small")
    latency.grid(alpha=0.3)
    figure.suptitle(f"{scenario}: throughput and latency over time")
    path = out / f"chart-{scenario}-over-time.png"
    _save(figure, path)
    return Chart(f"{scenario}: throughput and latency over time", path)


def draw_cpu(results: dict, out: Path) -> Chart | None:
    scenarios = {
        name: scenario["cpu_cores"]
        for name, scenario in results.get("scenarios", {}).items()
        if scenario.get("cpu_cores")
    }
    if not scenarios:
        return None
    parts = sorted(
        {part for cores in scenarios.values() for part, value in cores.items() if value} - {MACHINE}
    )
    names = list(scenarios)
    figure, axes = plt.subplots(figsize=(9, 1.2 + 0.6 * len(names)))
    colours = plt.get_cmap("tab20").colors
    left = [0.0] * len(names)
    for index, part in enumerate(parts):
        widths = [scenarios[name].get(part, 0.0) for name in names]
        axes.barh(names, widths, left=left, label=part, color=colours[index % len(colours)])
        left = [a + b for a, b in zip(left, widths, strict=True)]
    machine = [(name, scenarios[name][MACHINE]) for name in names if MACHINE in scenarios[name]]
    if machine:
        axes.scatter(
            [value for _, value in machine],
            [name for name, _ in machine],
            marker="|",
            s=400,
            color="black",
            label=MACHINE,
            zorder=3,
        )
    axes.invert_yaxis()
    axes.set_xlabel("CPU (cores) during the measured window")
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title("CPU per part, per scenario")
    path = out / "chart-cpu-per-part.png"
    _save(figure, path)
    return Chart("CPU per part, per scenario", path)


def draw_confirmation(latencies: list[float], out: Path) -> Chart | None:
    if not latencies:
        return None
    ordered = sorted(latencies)
    figure, axes = plt.subplots(figsize=(9, 4))
    axes.hist(ordered, bins=min(50, max(10, len(ordered) // 10)), color="tab:green", alpha=0.8)
    # Interpolated as the report's figures are (run.py's percentile).
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []
    for share, style in ((50, "-"), (95, "--"), (99, ":")):
        value = cuts[share - 1] if cuts else ordered[0]
        axes.axvline(value, color="black", linestyle=style, label=f"p{share} {value:,.0f} ms")
    axes.set_xlabel("payment → confirmed (ms)")
    axes.set_ylabel("orders")
    axes.legend()
    axes.grid(alpha=0.3)
    axes.set_title(f"Payment → confirmed latency, {len(ordered)} orders")
    path = out / "chart-confirmation-latency.png"
    _save(figure, path)
    return Chart("Payment → confirmed latency distribution", path)


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


def draw(results_dir: Path) -> list[Chart]:
    """Every chart the raw results allow, written into ``results_dir``."""
    results_file = results_dir / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    ordered = list(results.get("scenarios", {}))
    histories = sorted(
        results_dir.glob("*_stats_history.csv"),
        key=lambda p: ordered.index(_scenario(p)) if _scenario(p) in ordered else len(ordered),
    )
    charts = [draw_over_time(_scenario(path), path, results_dir) for path in histories]
    charts.append(draw_cpu(results, results_dir))
    latencies_file = results_dir / "latency-confirmation-ms.json"
    if latencies_file.exists():
        charts.append(draw_confirmation(json.loads(latencies_file.read_text()), results_dir))
    return [chart for chart in charts if chart is not None]


def _scenario(history: Path) -> str:
    return history.name.removesuffix("_stats_history.csv")


def add_to_report(report: Path, results_dir: Path) -> list[Chart]:
    """Draw the charts and put them, as the report's last section, into ``report``."""
    charts = draw(results_dir)
    text = report.read_text() if report.exists() else ""
    text = text.split(f"\n{SECTION}\n", 1)[0].rstrip("\n") + "\n"
    if charts:
        lines = [
            f"\n{SECTION}\n",
            f"Drawn by `bench/charts.py` from the raw results in `{_relative(results_dir, report)}`.\n",
        ]
        for chart in charts:
            lines.append(
                f"### {chart.title}\n\n![{chart.title}]({_relative(chart.path, report)})\n"
            )
        text += "\n".join(lines)
    report.write_text(text)
    return charts


def _relative(path: Path, report: Path) -> str:
    return Path(os.path.relpath(path.resolve(), report.resolve().parent)).as_posix()


if __name__ == "__main__":
    results_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH / "results"
    report = Path(sys.argv[2]) if len(sys.argv) > 2 else BENCH / "RESULTS.md"
    for chart in add_to_report(report, results_dir):
        print(chart.path)

"""The load benchmark of the whole system in real mode; writes bench/RESULTS.md.

Started by ``./manage_all.sh bench [options]`` (bench/run.sh installs the load
tool first). It brings the system up through scripts/system.py on free ports
(PostgreSQL databases ``ecommerce_bench_*`` (``BENCH_NAME``), a private RabbitMQ vhost, its own
SecantusDB, gunicorn with deploy/gunicorn.conf.py, the worker and the
scheduler), seeds users and products over the public API, drives each scenario
with locust (headless, one process), and always stops everything it started,
also on Ctrl-C or SIGTERM. See bench/README.md for what each scenario measures.

The parts: ``harness`` (the system, the CPU accounting, locust), ``seeding`` (the data),
``scenarios`` (the registry of what is measured) and ``report`` (RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import signal
import sys
from pathlib import Path

from harness import (
    BENCH,
    ROOT,
    BenchError,
    Harness,
    load_average,
    machine_description,
    say,
)
from scenarios import SCENARIOS, Run
from seeding import seed

from ecommerce_common import infra
from launcher.config import Settings

RESULTS = BENCH / "results"


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_scenarios(run: Run) -> None:
    """The scenarios asked for (with the orders scenario the ones after it need), in order."""
    harness = run.harness
    scenarios = harness.args.only or list(SCENARIOS)
    for needs_orders in ("history", "latency"):
        if needs_orders in scenarios and "orders" not in scenarios:
            scenarios.insert(scenarios.index(needs_orders), "orders")
    run.results["started"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    run.results["load_at_start"] = load_average()
    run.results["machine"] = machine_description(harness.postgres_url)
    run.results["machine"]["mongodb"] = (
        "MongoDB at BENCH_MONGODB_URI"
        if os.environ.get("BENCH_MONGODB_URI")
        else "SecantusDB (the run's own, MongoDB wire protocol)"
    )
    needs_system = scenarios != ["ceiling"]
    harness.start(system=needs_system)
    if needs_system:
        run.data = seed(harness)
    for scenario in SCENARIOS:
        if scenario in scenarios:
            SCENARIOS[scenario](run)
            save_raw(run)
    run.results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    run.results["load_at_end"] = load_average()


def save_raw(run: Run) -> None:
    run.harness.results_dir.joinpath("results.json").write_text(
        json.dumps(run.results, indent=2, default=str)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./manage_all.sh bench", description=__doc__)
    parser.add_argument("--users", type=int, default=32, help="locust users (default 32)")
    parser.add_argument("--spawn-rate", type=float, help="users started per second (default: all)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario (20)")
    parser.add_argument(
        "--web-concurrency", type=int, default=2, help="gunicorn workers per service (2)"
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=Settings().worker_concurrency,
        help="the usual worker's task processes (as `up` runs it)",
    )
    parser.add_argument("--products", type=int, default=420, help="catalogue products (420)")
    parser.add_argument("--order-products", type=int, default=20, help="stocked products (20)")
    parser.add_argument("--stock", type=int, default=1_000_000, help="units of each stocked one")
    parser.add_argument("--buyers", type=int, default=64, help="pre-registered buyers (64)")
    parser.add_argument(
        "--worker-orders", type=int, default=200, help="paid orders queued per worker run (200)"
    )
    parser.add_argument(
        "--history",
        type=int,
        default=50_000,
        help="earlier orders seeded in the stores for the history scenario (50000)",
    )
    parser.add_argument("--drain-timeout", type=float, default=300, help="seconds (300)")
    parser.add_argument("--log-level", default="INFO", help="the services' LOG_LEVEL (INFO)")
    parser.add_argument(
        "--access-log", action="store_true", help="gunicorn access logs on (services and ceiling)"
    )
    parser.add_argument(
        "--only",
        type=lambda value: value.split(","),
        help=f"comma-separated: {','.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 5 s scenarios, few users and orders"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="wall",
        choices=("wall", "cpu"),
        help="py-spy the parts under load: 'wall' (default: busy or waiting in a call) or 'cpu' "
        "(only threads holding the GIL); perturbs the figures, for finding bottlenecks",
    )
    parser.add_argument(
        "--keep-databases", action="store_true", help="leave the bench databases and vhost"
    )
    parser.add_argument("--output", type=Path, help="where to write the report (bench/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.users = min(args.duration, 5), min(args.users, 8)
        args.products, args.buyers, args.worker_orders = 20, 10, min(args.worker_orders, 40)
        args.history = min(args.history, 2000)
    for scenario in args.only or []:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    argv_text = " ".join(shlex.quote(arg) for arg in (argv if argv is not None else sys.argv[1:]))
    command = f"./manage_all.sh bench {argv_text}".strip()

    results_dir = RESULTS
    if args.output:
        # A report elsewhere keeps its raw data beside it; bench/results/ stays as it is.
        results_dir = args.output.resolve().parent / f"{args.output.stem}-results"
    results_dir.mkdir(parents=True, exist_ok=True)
    for old in results_dir.iterdir():
        if old.is_file():
            old.unlink()
    # Ctrl-C and SIGTERM both stop the run and everything it started (SIGINT is set
    # explicitly: a shell starting the run in the background would have it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    run = Run(Harness(args, results_dir))
    run.results["command"] = command
    run.results["raw_dir"] = str(
        results_dir.relative_to(ROOT) if results_dir.is_relative_to(ROOT) else results_dir
    )
    run.results["options"] = {key: str(value) for key, value in vars(args).items()}
    complete = False
    try:
        run_scenarios(run)
        complete = True
    except KeyboardInterrupt:
        say("interrupted; stopping everything")
    except Exception as exc:
        if not isinstance(exc, (BenchError, infra.InfrastructureError)):
            import traceback

            traceback.print_exc()
        say(f"failed: {exc}")
        if run.harness.system is not None:
            for name, process in run.harness.system.processes.items():
                print(f"--- {name} log tail ---\n{process.log_tail(15)}")
    finally:
        run.harness.stop()
        save_raw(run)
    from report import write_report

    output = args.output or (
        BENCH / "RESULTS.md" if complete else results_dir / "PARTIAL-RESULTS.md"
    )
    write_report(run.results, output, complete=complete)
    from charts import add_to_report

    add_to_report(output, results_dir)  # the PNG charts, drawn from the raw results
    say(f"report written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())

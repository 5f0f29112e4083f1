"""The sections of bench/RESULTS.md, one generator each: a run's results in, its lines out.

Each section yields its lines; ``report.render`` joins what :data:`SECTIONS` yield, in order.
A section that has nothing to show (its scenario did not run) yields none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

TARGETS = {"catalogue": 0.40, "orders": 0.20}
# Issue 11: machine CPU per confirmed order, drain after the flat-out run, sustained rate, and
# the cost of an order with a long history within 15 % of an empty one.
ORDER_CPU_MS, ORDER_CPU_STRETCH_MS, DRAIN_SECONDS, SUSTAINED_PER_SECOND = 40, 25, 5, 40
FLAT_HISTORY = 0.15
# Shown per part, not summed into the machine CPU (bench/run.py NOT_SUMMED).
NOT_SUMMED = ("ceiling", "postgresql (whole server)", "machine (all processes)")
ORDER_SCENARIOS = ("orders", "history", "nocache")
# The load scenarios, in the order the summary and the per-request section list them.
LOAD_SCENARIOS = (
    "ceiling", "catalogue", "catalogue_nocache", "catalogue_list_nocache", "orders", "history",
    "latency", "nocache",
)  # fmt: skip
# Machine CPU per uncached list query (issue 11).
UNCACHED_LIST_CPU_MS = 8
HISTORY_BEFORE = {"orders": "empty", "nocache": "after history"}
TITLES = {
    "ceiling": "Ceiling: trivial Django view, same gunicorn config",
    "catalogue": "Catalogue browsing (list with filters, search, detail)",
    "catalogue_nocache": "Catalogue browsing, catalogue cache off",
    "catalogue_list_nocache": "Catalogue list with filters only, catalogue cache off",
    "orders": "Order placement (create + pay), flat out",
    "history": "Order placement, flat out, after seeding earlier orders",
    "latency": "Order placement at half the max order rate",
    "nocache": "Order placement, verify cache off",
}


def _ms(value) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("**yes**" if ok else "**NO**")


def cpu_ms_per_request(stats: dict, *, scenario: str) -> float | None:
    """Machine CPU per request in the scenario's window: every part's cores summed (the ceiling
    only for itself), over the requests per second."""
    cores, rps = stats.get("cpu_cores") or {}, stats.get("total", {}).get("rps")
    if not cores or not rps:
        return None
    used = sum(
        value
        for part, value in cores.items()
        if part not in NOT_SUMMED or (part == "ceiling" and scenario == "ceiling")
    )
    return 1000 * used / rps


def _number(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def _seconds(value) -> str:
    return "more than the drain timeout" if value is None else f"{value:.1f} s"


def _load_scenarios_that_ran(scenarios: dict) -> Iterator[tuple[str, dict]]:
    for name in LOAD_SCENARIOS:
        if scenarios.get(name):
            yield name, scenarios[name]


@dataclass(frozen=True)
class Report:
    """What every section reads: the results (as run.py saves them) and whether the run ended."""

    results: dict
    complete: bool

    @property
    def scenarios(self) -> dict:
        return self.results.get("scenarios", {})

    @property
    def machine(self) -> dict:
        return self.results.get("machine", {})

    @property
    def options(self) -> dict:
        return self.results.get("options", {})

    @property
    def ceiling(self) -> float | None:
        """The ceiling scenario's requests per second, the denominator of the ratios."""
        return self.scenarios.get("ceiling", {}).get("total", {}).get("rps")


def header(report: Report) -> Iterator[str]:
    """The title, the run's command and what shared the machine."""
    results = report.results
    machine = report.machine
    options = report.options
    complete = report.complete
    yield "# Benchmark results\n"
    if not complete:
        yield "> **Incomplete run**: it was interrupted or failed; figures below are partial.\n"
    yield (
        f"Run {results.get('started', '?')} → {results.get('finished', '?')} (UTC) on commit "
        f"`{machine.get('commit', '?')}`. Reproduce with:\n"
    )
    yield f"```\n{results.get('command', './manage_all.sh bench')}\n```\n"
    yield (
        "Everything ran on this one machine: the four services (gunicorn, "
        f"`WEB_CONCURRENCY={options.get('web_concurrency', '?')}`, gthread with the threads of "
        "`deploy/gunicorn.conf.py`), the Celery worker and beat, PostgreSQL, RabbitMQ, "
        "SecantusDB **and the load generator** (locust, one process, `FastHttpUser`), so they "
        "compete for the same CPUs. Load average at start "
        f"`{results.get('load_at_start', '?')}`, at end `{results.get('load_at_end', '?')}` "
        f"(1/5/15 min; {machine.get('nproc', '?')} CPUs): a load above the CPU count before "
        "the run means other work shared the machine and the absolute figures are low.\n"
    )

    yield (
        "Why targets are missed, with profiles and proposed fixes: `bench/FINDINGS.md` "
        "(written by hand from such runs).\n"
    )


def machine(report: Report) -> Iterator[str]:
    """The machine: CPU, memory, OS and package versions."""
    machine = report.machine
    yield "## Machine\n"
    yield "| | |\n|---|---|"
    keys = ("cpu", "nproc", "memory", "os", "kernel", "python", "postgresql", "rabbitmq", "mongodb")
    for key in keys:
        yield f"| {key} | {machine.get(key, '?')} |"
    yield f"| packages | {machine.get('versions', '?')} |\n"


def summary(report: Report) -> Iterator[str]:
    """Each scenario against its target, and the errors over all of them."""
    scenarios = report.scenarios
    options = report.options
    ceiling = report.ceiling
    yield "## Summary against the targets\n"
    yield (
        "Requests per second are locust's (all requests of the scenario over its duration); "
        "the ratio is to the ceiling's requests per second measured in the same run with the "
        "same locust settings "
        f"({options.get('users', '?')} users, {options.get('duration', '?')} s).\n"
    )
    yield (
        "Machine CPU per request: the CPU seconds every part of the system used in the "
        "scenario's measured window (services, worker, beat, SecantusDB, the bench databases' "
        "PostgreSQL backends, RabbitMQ, locust; each from its own process accounting), over the "
        "requests answered. For the order scenarios the worker's share of each order partly "
        "falls after the window: see the CPU per confirmed order below.\n"
    )
    yield (
        "| scenario | req/s | ratio to ceiling | target | met | p50 / p95 / p99 ms | errors "
        "| machine CPU ms per request |"
    )
    yield "|---|---:|---:|---|---|---|---:|---:|"
    all_errors = 0
    for name, stats in _load_scenarios_that_ran(scenarios):
        total = stats["total"]
        all_errors += total["failures"]
        ratio = total["rps"] / ceiling if ceiling else None
        target, met = "", None
        if name in TARGETS:
            target = f"≥ {TARGETS[name]:.0%} of ceiling"
            met = None if ratio is None else ratio >= TARGETS[name]
        if name == "latency":
            target = "paced at half the max order rate"
        if name == "catalogue_nocache":
            target = "- (the miss path)"
        if name == "catalogue_list_nocache":
            target = f"≤ {UNCACHED_LIST_CPU_MS} ms CPU per request"
            cpu = cpu_ms_per_request(stats, scenario=name)
            met = None if cpu is None else cpu <= UNCACHED_LIST_CPU_MS
        yield (
            f"| {TITLES[name]} | {total['rps']:,.1f} | {_ratio(ratio)} | {target} | {_met(met)} "
            f"| {_ms(total['p50'])} / {_ms(total['p95'])} / {_ms(total['p99'])} "
            f"| {total['failures']} | {_ms(cpu_ms_per_request(stats, scenario=name))} |"
        )
    latency = scenarios.get("latency", {}).get("confirmation")
    if latency and latency.get("p50_ms") is not None:
        ok = latency["p95_ms"] <= 2 * latency["p50_ms"]
        segments = scenarios["latency"].get("segments") or {}
        queue, handle = segments.get("queue"), segments.get("handle")
        backlog = bool(queue and handle and queue["p50_ms"] > 5 * max(handle["p50_ms"], 1))
        yield (
            f"| Payment → confirmed (status history) | | | p95 ≤ 2 x p50 | {_met(ok)}"
            f"{' (but a growing backlog: see below)' if backlog else ''} "
            f"| {_ms(latency['p50_ms'])} / {_ms(latency['p95_ms'])} / {_ms(latency['p99_ms'])} "
            f"| {latency.get('not_confirmed', 0)} not confirmed | |"
        )
    yield (
        f"\nError responses over all load scenarios: **{all_errors}** (target 0: "
        f"{_met(all_errors == 0)}).\n"
    )


def catalogue_cache(report: Report) -> Iterator[str]:
    """The catalogue scenario with the read cache on and off."""
    scenarios = report.scenarios
    ceiling = report.ceiling
    catalogue_runs = [
        (label, scenarios[name])
        for label, name in (("on", "catalogue"), ("off", "catalogue_nocache"))
        if scenarios.get(name, {}).get("cache")
    ]
    if not catalogue_runs:
        return
    yield "## What the catalogue cache buys\n"
    yield (
        "The catalogue scenario with product_service's read cache as deployed "
        "(`CATALOGUE_CACHE_SECONDS`, default 30 s, per gunicorn worker, empty at the start "
        "of the scenario) and again with product_service restarted with "
        "`CATALOGUE_CACHE_SECONDS=0`: every request then reaches the store (the miss path). "
        "Hit rate = answers with `X-Cache: hit` over all answers (locust counted the header; "
        "`none` = no header, the cache off).\n"
    )
    yield (
        "| catalogue cache | req/s | ratio to ceiling | p50 / p95 ms | hit rate "
        "| X-Cache hit / miss / none | product_service CPU cores | secantusdb CPU cores |"
    )
    yield "|---|---:|---:|---|---:|---|---:|---:|"
    for label, stats in catalogue_runs:
        total, cache = stats["total"], stats["cache"]
        outcomes = cache.get("outcomes", {})
        cores = stats.get("cpu_cores", {})
        yield (
            f"| {label} | {total['rps']:,.1f} "
            f"| {_ratio(total['rps'] / ceiling if ceiling else None)} "
            f"| {_ms(total['p50'])} / {_ms(total['p95'])} | {_ratio(cache.get('hit_rate'))} "
            f"| {outcomes.get('hit', 0)} / {outcomes.get('miss', 0)} / {outcomes.get('none', 0)} "
            f"| {cores.get('product_service', 0):.2f} | {cores.get('secantusdb', 0):.2f} |"
        )
    yield ""


def order_placement(report: Report) -> Iterator[str]:
    """The order scenarios: rates, drain, CPU per confirmed order, issue 11's targets."""
    scenarios = report.scenarios
    options = report.options
    orders = scenarios.get("orders")
    if not orders:
        return
    yield "## Order placement\n"
    yield (
        f"Flat out for {options.get('duration', '?')} s with {options.get('users', '?')} "
        f"users: **{orders['orders_per_second']:.1f} orders/s** placed and paid (each order "
        "is two requests: `POST /orders`, then `POST /orders/{id}/pay` with `tok_visa`), by "
        f"{options.get('buyers', '?')} pre-registered buyers whose tokens were fetched "
        f"before the run, over {options.get('order_products', '?')} products with ample "
        "stock. After the run the worker needed "
        f"{_seconds(orders.get('drain_seconds'))} more to confirm the backlog of paid orders "
        f"and {_seconds(orders.get('caught_up_seconds'))} to handle every event published "
        "(only the events it acts on reach it: `order.paid` for these orders).\n"
    )
    yield (
        "**Machine CPU per confirmed order**: the CPU seconds of every part, from the first "
        "order stored to the last paid order confirmed and every event handled, over the "
        "orders confirmed in that time. Each part's own process accounting (psutil): the "
        "process trees of the four services, the worker and beat, SecantusDB and locust; "
        "the PostgreSQL backends serving the bench databases (their process titles name "
        "the database; the server is shared with other work); RabbitMQ as the whole server "
        "(it cannot be split, so it counts other work on the machine too). **Sustained** = "
        "paid orders over placement time plus drain time.\n"
    )
    yield (
        "| scenario | history before | paid orders | placement s | drain s | sustained orders/s "
        "| confirmed | CPU ms per confirmed order | largest parts (ms) |"
    )
    yield "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    for name in ORDER_SCENARIOS:
        stats = scenarios.get(name)
        if not stats:
            continue
        per = stats.get("per_confirmed_order") or {}
        parts = sorted(
            ((part, ms) for part, ms in (per.get("ms_by_part") or {}).items()
             if part not in NOT_SUMMED),
            key=lambda item: -item[1],
        )  # fmt: skip
        pay = stats["by_name"].get("POST /orders/{id}/pay", {"requests": 0, "failures": 0})
        history = (stats.get("history_seeded") or {}).get("orders")
        yield (
            f"| {name} | {HISTORY_BEFORE.get(name) or f'{history:,} seeded'} "
            f"| {pay['requests'] - pay['failures']} | {stats['elapsed']:.1f} "
            f"| {_number(stats.get('drain_seconds'))} "
            f"| {_number(stats.get('sustained_orders_per_second'))} "
            f"| {per.get('confirmed', '-')} | **{_number(per.get('ms_total'))}** "
            f"| {', '.join(f'{part} {ms:.1f}' for part, ms in parts[:6])} |"
        )
    per = orders.get("per_confirmed_order") or {}
    ms, drain = per.get("ms_total"), orders.get("drain_seconds")
    sustained = orders.get("sustained_orders_per_second")
    yield "\n| target (issue 11, the orders scenario) | measured | met |"
    yield "|---|---:|---|"
    yield (
        f"| ≤ {ORDER_CPU_MS} ms machine CPU per confirmed order (stretch ≤ "
        f"{ORDER_CPU_STRETCH_MS} ms) | {_number(ms)} ms "
        f"| {_met(None if ms is None else ms <= ORDER_CPU_MS)}"
        f"{' (stretch met)' if ms is not None and ms <= ORDER_CPU_STRETCH_MS else ''} |"
    )
    yield (
        f"| backlog drains within {DRAIN_SECONDS} s | {_number(drain)} s "
        f"| {_met(None if drain is None else drain <= DRAIN_SECONDS)} |"
    )
    yield (
        f"| ≥ {SUSTAINED_PER_SECOND} confirmed orders/s sustained | {_number(sustained)} "
        f"| {_met(None if sustained is None else sustained >= SUSTAINED_PER_SECOND)} |"
    )
    history = scenarios.get("history")
    base_ms = per.get("ms_total")
    history_ms = ((history or {}).get("per_confirmed_order") or {}).get("ms_total")
    if history and base_ms and history_ms:
        change = history_ms / base_ms - 1
        seeded = history.get("history_seeded") or {}
        yield (
            f"| flat history: CPU per confirmed order after {seeded.get('orders', 0):,} "
            f"earlier orders within {FLAT_HISTORY:.0%} of the empty history "
            f"| {history_ms:.1f} vs {base_ms:.1f} ms ({change:+.1%}) "
            f"| {_met(abs(change) <= FLAT_HISTORY)} |"
        )
        yield (
            f"\nThe history scenario seeded {seeded.get('orders', 0):,} earlier confirmed "
            "orders directly in the stores before it ran (bulk `insert_many` into "
            "product_service's `stock_reservations`, copies of a real committed reservation; "
            "`INSERT … SELECT generate_series` into order_service's orders, items, status "
            "history, outbox and payments and the integration event log) in "
            f"{seeded.get('seconds', '?')} s."
        )
    yield ""
    for name in ORDER_SCENARIOS:
        per = (scenarios.get(name) or {}).get("per_confirmed_order") or {}
        if per.get("ms_by_part"):
            yield (
                f"CPU ms per confirmed order by part, {name}: "
                + ", ".join(
                    f"{part} {ms:.2f}"
                    for part, ms in sorted(per["ms_by_part"].items(), key=lambda i: -i[1])
                    if ms >= 0.01
                )
                + f" (over {per.get('seconds')} s).\n"
            )
    if sustained:
        yield (
            f"Sustained end to end: **{sustained:.1f} orders/s** placed *and confirmed*. "
            "This is the system's maximum order throughput: placement alone runs faster "
            "only by leaving the worker's share of each order for later. The latency "
            "scenario is paced at half of it.\n"
        )


def confirmation_latency(report: Report) -> Iterator[str]:
    """Payment → confirmed latency at half the max order rate, and where it goes."""
    scenarios = report.scenarios
    latency = scenarios.get("latency", {}).get("confirmation")
    if not latency:
        return
    stats = scenarios["latency"]
    yield "## Payment → confirmed latency\n"
    yield (
        f"Orders paced at {stats['target_orders_per_second']:.1f} orders/s (half the sustained "
        f"end-to-end rate above); {stats['orders_placed']} placed and paid. For each, "
        "`GET /orders/{id}/status` was read after the run and the time between the `paid` "
        "and the `confirmed` history rows taken (outbox relay → RabbitMQ → worker → "
        "product commit → order status).\n"
    )
    yield "| confirmed | p50 ms | p95 ms | p99 ms | max ms | mean ms | confirmed/s | p95 ÷ p50 |"
    yield "|---:|---:|---:|---:|---:|---:|---:|---:|"
    factor = f"{latency['p95_ms'] / latency['p50_ms']:.2f}" if latency.get("p50_ms") else "-"
    yield (
        f"| {latency['count']} | {_ms(latency['p50_ms'])} | {_ms(latency['p95_ms'])} "
        f"| {_ms(latency['p99_ms'])} | {_ms(latency['max_ms'])} | {_ms(latency['mean_ms'])} "
        f"| {latency.get('confirmed_per_second') or '-'} | {factor} |"
    )
    yield f"\nFinal statuses of those orders: `{stats.get('final_statuses')}`.\n"
    segments = stats.get("segments")
    if segments:
        yield (
            "Where that time goes, per `order.paid` event, from the databases' timestamps: "
            "**publish** = outbox row written (in the payment's transaction) → published to "
            "RabbitMQ (`sent_at`); **queue** = published → taken by the worker (event log "
            "`received_at`); **handle** = taken → handled (stock committed, order "
            "confirmed: `completed_at`).\n"
        )
        yield "| segment | events | p50 ms | p95 ms | p99 ms |"
        yield "|---|---:|---:|---:|---:|"
        for name in ("publish", "queue", "handle"):
            if name in segments:
                seg = segments[name]
                yield (
                    f"| {name} | {seg['count']} | {_ms(seg['p50_ms'])} | {_ms(seg['p95_ms'])} "
                    f"| {_ms(seg['p99_ms'])} |"
                )
        queue, handle = segments.get("queue"), segments.get("handle")
        if queue and handle and queue["p50_ms"] > 5 * max(handle["p50_ms"], 1):
            yield (
                "\n**The worker did not keep up at this rate**: the median paid event waited "
                f"{_ms(queue['p50_ms'])} ms in the queue for {_ms(handle['p50_ms'])} ms of "
                "handling. The queue grew during the run, so payment → confirmed measures a "
                "backlog, not a steady state, whatever the p95 ÷ p50 ratio says. The "
                "worker's events/s (below) against the events/s this rate produces (one "
                "per order) shows the gap."
            )
        yield ""


def worker_throughput(report: Report) -> Iterator[str]:
    """The worker's events per second with one and two processes."""
    scenarios = report.scenarios
    worker = scenarios.get("worker")
    if not worker:
        return
    yield "## Worker throughput\n"
    yield (
        "N paid orders are placed while no worker runs (their events wait in RabbitMQ); then "
        "one or two worker processes (`celery worker --concurrency 1` each, prefetch 1) are "
        "started and timed until every order is `confirmed`. Events per second come from "
        "the integration event log (first received → last completed; only `order.paid` "
        "reaches the worker for these orders: it commits the stock and confirms the "
        "order).\n"
    )
    yield ("| worker processes | orders | events handled | window s | events/s | paid orders/s "
        "| wall s from launch | final statuses |")  # fmt: skip
    yield "|---:|---:|---:|---:|---:|---:|---:|---|"
    for run in worker["runs"]:
        yield (
            f"| {run['workers']} | {run['orders']} | {run['events_handled']} "
            f"| {run['window_seconds']} | {run['events_per_second']} "
            f"| {run['paid_orders_per_second']} | {run['wall_seconds_from_launch']} "
            f"| `{run['final_statuses']}` |"
        )
    yield (
        "\nMean handling time of one event inside the task (event log: received → "
        "completed), by type: "
        + "; ".join(
            f"{run['workers']} process(es): "
            + ", ".join(
                f"{kind} {ms} ms" for kind, ms in run.get("handling_ms_by_type", {}).items()
            )
            for run in worker["runs"]
        )
        + "."
    )
    runs = worker["runs"]
    if len(runs) == 2 and runs[0]["events_per_second"] and runs[1]["events_per_second"]:
        yield (
            f"\nTwo processes handle {runs[1]['events_per_second'] / runs[0]['events_per_second']:.2f}"
            " x the events of one.\n"
        )


def verify_cache(report: Report) -> Iterator[str]:
    """The order scenario with the verify cache on and off."""
    scenarios = report.scenarios
    orders = scenarios.get("orders")
    nocache = scenarios.get("nocache")
    if not (nocache and orders):
        return
    yield "## What the verify cache buys\n"
    ratio = nocache["total"]["rps"] / orders["total"]["rps"] if orders["total"]["rps"] else 0
    yield (
        "The order scenario again with product_service and order_service restarted with "
        "`VERIFY_CACHE_SECONDS=0`, so every request calls user_service's `/internal/verify`.\n"
    )
    yield (
        "| verify cache | req/s | orders/s | p50 / p95 ms | errors "
        "| `/internal/verify` calls/s | per order | user_service CPU cores |"
    )
    yield "|---|---:|---:|---|---:|---:|---:|---:|"
    for label, stats in (("on (30 s)", orders), ("off", nocache)):
        total = stats["total"]
        calls = stats.get("verify_calls_per_second")
        per_order = (
            f"{calls / stats['orders_per_second']:.2f}"
            if calls is not None and stats["orders_per_second"]
            else "-"
        )
        yield (
            f"| {label} | {total['rps']:,.1f} | {stats['orders_per_second']:.1f} "
            f"| {_ms(total['p50'])} / {_ms(total['p95'])} | {total['failures']} "
            f"| {calls if calls is not None else '-'} | {per_order} "
            f"| {stats.get('cpu_cores', {}).get('user_service', 0):.2f} |"
        )
    ignored = [name for name, reads in (nocache.get("reads_env") or {}).items() if not reads]
    if ignored:
        yield (
            f"\n**Finding**: {', '.join(ignored)} kept caching with `VERIFY_CACHE_SECONDS=0` "
            "in its environment (six authenticated requests in a row did not make six "
            "`/internal/verify` calls). For this scenario the benchmark set the value through "
            "a settings shim (`bench/nocache/`) that imports the service's settings and "
            "overrides only that value."
        )
    if nocache.get("verify_calls_per_second") is not None and (
        nocache["verify_calls_per_second"] < 0.5 * nocache["total"]["rps"]
    ):
        yield (
            "\n**The cache was not fully off**: with `VERIFY_CACHE_SECONDS=0` every "
            "authenticated request should call `/internal/verify` (about one call per "
            "request), but user_service's access log shows far fewer. A service that does "
            "not read `VERIFY_CACHE_SECONDS` from its environment keeps the 30 s default."
        )
    yield (
        f"\nWith the cache off the order scenario runs at **{ratio:.0%}** of its cached speed.\n"
    )


def per_request(report: Report) -> Iterator[str]:
    """Each scenario's requests, CPU by part and PostgreSQL figures."""
    scenarios = report.scenarios
    yield "## Per request\n"
    for name, stats in _load_scenarios_that_ran(scenarios):
        yield f"### {TITLES[name]}\n"
        yield (
            f"Load average before/after: `{stats.get('load_before')}` / `{stats.get('load_after')}`.\n"
        )
        yield "| request | count | errors | req/s | avg ms | p50 | p95 | p99 | max |"
        yield "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        for request, row in stats["by_name"].items():
            yield (
                f"| `{request}` | {row['requests']} | {row['failures']} | {row['rps']:,.1f} "
                f"| {row['avg']} | {_ms(row['p50'])} | {_ms(row['p95'])} | {_ms(row['p99'])} "
                f"| {_ms(row['max'])} |"
            )
        cores = stats.get("cpu_cores")
        if cores:
            parts = ", ".join(
                f"{part} {value:.2f}"
                for part, value in sorted(cores.items(), key=lambda item: -item[1])
                if value >= 0.01
            )
            yield f"\nCPU cores used during the run (each part's process tree): {parts}."
        per_second = {
            db: v for db, v in (stats.get("postgres_per_second") or {}).items() if any(v.values())
        }
        if per_second:
            yield (
                "\nPostgreSQL, per second in the window: "
                + "; ".join(
                    f"{db}: {v['commits']} commits, {v['inserted']} rows inserted, "
                    f"{v['updated']} updated, {v['fetched']} fetched"
                    for db, v in sorted(per_second.items())
                )
                + "."
            )
        sessions = stats.get("postgres_active_sessions")
        if sessions:
            yield (
                "\nActive PostgreSQL sessions of the run, on average, by what they were doing "
                "(pg_stat_activity every 0.2 s; `CPU:running` = not waiting): "
                + ", ".join(f"{key} {value}" for key, value in sessions.items())
                + "."
            )
        boots = stats.get("worker_boots")
        if boots:
            text = ", ".join(f"{part} {count}" for part, count in sorted(boots.items()))
            yield (
                "\ngunicorn workers booted during the window (a worker is replaced after "
                "`max_requests` requests, deploy/gunicorn.conf.py): " + text + "."
            )
        if stats.get("failures"):
            yield "\nErrors:\n"
            for failure in stats["failures"][:10]:
                yield f"- `{failure['name']}` x {failure['count']}: {failure['error']}"
        yield ""


def profiles(report: Report) -> Iterator[str]:
    """The py-spy profiles of a ``--profile`` run."""
    results = report.results
    scenarios = report.scenarios
    options = report.options
    profiled = [
        (name, part, summary)
        for name, stats in scenarios.items()
        for part, summary in (stats.get("profiles") or {}).items()
    ] + [
        (f"worker x{run['workers']}", part, summary)
        for run in scenarios.get("worker", {}).get("runs", [])
        for part, summary in (run.get("profiles") or {}).items()
    ]
    if not profiled:
        return
    mode = options.get("profile")
    yield f"## Profiles (py-spy, `--profile {mode}`)\n"
    if mode == "cpu":
        yield ("Mode `cpu`: only threads holding the GIL were sampled, so the shares are of "
            "Python CPU time.\n")  # fmt: skip
    else:
        yield ("Mode `wall`: every thread was sampled, idle or not (`--idle`), so the shares are "
            "of wall-clock time, waiting for PostgreSQL or another service included.\n")  # fmt: skip
    yield (
        "Only the samples inside one unit of work count: a request (`WSGIHandler.__call__`) "
        "for the services, a task (`order_event_process`) for the worker, a command "
        "(`dispatch`) for SecantusDB. Profiling slows the parts down: the figures of a "
        "profiled run are not the benchmark's. Collapsed stacks (every sample): "
        f"`{results.get('raw_dir', 'bench/results')}/profile-*.txt` (not committed).\n"
    )
    for name, part, summary in profiled:
        if not summary.get("samples"):
            continue
        yield (
            f"### {name}: {part} ({summary['samples']} samples in "
            f"`{summary.get('anchor') or 'any frame'}`)\n"
        )
        yield ("By package of the innermost frame: " + ", ".join(
            f"{package} {share}%" for package, share in summary["packages"][:8]
        ) + ".\n")  # fmt: skip
        yield "| our code, inclusive | % | hottest leaf frames | % |"
        yield "|---|---:|---|---:|"
        ours, leaves = summary["ours"][:10], summary["self"][:10]
        for index in range(max(len(ours), len(leaves))):
            left = ours[index] if index < len(ours) else ("", "")
            right = leaves[index] if index < len(leaves) else ("", "")
            left_name = f"`{left[0]}`" if left[0] else ""
            right_name = f"`{right[0]}`" if right[0] else ""
            yield f"| {left_name} | {left[1]} | {right_name} | {right[1]} |"
        yield ""


def raw_data(report: Report) -> Iterator[str]:
    """Where the raw data is, and the run's options."""
    results = report.results
    options = report.options
    yield "## Raw data\n"
    yield (
        f"`{results.get('raw_dir', 'bench/results')}/`: `results.json` (everything above), "
        "`<scenario>_stats.csv`, "
        "`_stats_history.csv`, `_failures.csv` (locust's CSV), `<scenario>.locust.log`, "
        "`latency-confirmation-ms.json` (each order's payment → confirmed time). The "
        "services' logs of the run are in `bench/var/logs/` (not committed).\n"
    )
    yield "Options of this run: `" + json.dumps(options) + "`\n"


SECTIONS = (
    header,
    machine,
    summary,
    catalogue_cache,
    order_placement,
    confirmation_latency,
    worker_throughput,
    verify_cache,
    per_request,
    profiles,
    raw_data,
)

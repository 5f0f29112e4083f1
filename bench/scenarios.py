"""The scenarios: a registry of name → scenario, in the order a run takes them.

A scenario is a function of the :class:`Run` (the harness, the seeded data, the results so
far) that measures one thing and stores its figures in ``run.results["scenarios"][name]``.
bench/README.md says what each one measures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from harness import BENCH, NOT_SUMMED, VAR, BenchError, Harness, say
from seeding import place_paid_order, seed_history

# The parts an order goes through, profiled with --profile.
ORDER_PARTS = ("order_service", "product_service", "user_service", "secantusdb", "worker")


@dataclass
class Run:
    """One benchmark run: its harness, the data seeded for it and its results so far."""

    harness: Harness
    data: dict = field(default_factory=dict)
    results: dict = field(default_factory=lambda: {"scenarios": {}})


def warm_up(run: Run, scenario: str) -> None:
    """A few requests so every gunicorn worker has imported and connected before timing."""
    harness = run.harness
    if scenario == "ceiling":
        calls = [lambda: requests.get(f"{harness.ceiling_url}/ceiling", timeout=30)] * 40
    elif scenario == "catalogue":
        product = run.data["catalogue_products"][0]
        base = harness.url("product_service")
        calls = [
            lambda: requests.get(f"{base}/product/", params={"category": "Books"}, timeout=30),
            lambda: requests.get(f"{base}/product/{product}", timeout=30),
        ] * 20
    else:
        buyers = run.data["buyers"]
        chosen = [buyers[i % len(buyers)] for i in range(16)]
        calls = [lambda buyer=buyer: place_paid_order(harness, run.data, buyer) for buyer in chosen]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda call: call(), calls))


def scenario_ceiling(run: Run) -> None:
    warm_up(run, "ceiling")
    run.results["scenarios"]["ceiling"] = run.harness.run_locust(
        "ceiling", "CeilingUser", run.harness.ceiling_url
    )


def scenario_catalogue(run: Run) -> None:
    run.results["scenarios"]["catalogue"] = _catalogue(run, "catalogue")


def _catalogue(run: Run, name: str, user: str = "CatalogueUser") -> dict:
    """``user`` (CatalogueUser, or CatalogueListUser: lists only) against product_service,
    counting the answers' ``X-Cache`` values."""
    warm_up(run, "catalogue")
    outcomes_file = VAR / f"{name}-cache.json"
    stats = run.harness.run_locust(
        name,
        user,
        run.harness.url("product_service"),
        env={"BENCH_CACHE_OUT": str(outcomes_file)},
        profile=("product_service", "secantusdb"),
    )
    by_name = json.loads(outcomes_file.read_text()) if outcomes_file.exists() else {}
    total: Counter = Counter()
    for counts in by_name.values():
        total.update(counts)
    answered = sum(total.values())
    stats["cache"] = {
        "outcomes": dict(total),
        "by_name": by_name,
        "hit_rate": round(total["hit"] / answered, 4) if answered else None,
    }
    return stats


def catalogue_cache_header(run: Run) -> str | None:
    """The ``X-Cache`` header of a product detail, twice in a row: None when the cache is off."""
    url = f"{run.harness.url('product_service')}/product/{run.data['catalogue_products'][0]}"
    requests.get(url, timeout=30)
    return requests.get(url, timeout=30).headers.get("X-Cache")


def scenario_catalogue_nocache(run: Run) -> None:
    say("restarting product_service with CATALOGUE_CACHE_SECONDS=0")
    run.harness.restart_service("product_service", {"CATALOGUE_CACHE_SECONDS": "0"})
    try:
        header = catalogue_cache_header(run)
        if header is not None:
            raise BenchError(
                f"product_service still caches with CATALOGUE_CACHE_SECONDS=0 (X-Cache: {header})"
            )
        run.results["scenarios"]["catalogue_nocache"] = _catalogue(run, "catalogue_nocache")
        run.results["scenarios"]["catalogue_list_nocache"] = _catalogue(
            run, "catalogue_list_nocache", user="CatalogueListUser"
        )
    finally:
        say("restarting product_service with the catalogue cache on")
        run.harness.restart_service("product_service", {})


def _orders(run: Run, name: str, env: dict[str, str] | None = None, *, drain: bool = True) -> dict:
    harness = run.harness
    warm_up(run, "orders")
    # Nothing left over from before: the CPU from the first order to the drained backlog is
    # then this scenario's alone, and the orders confirmed meanwhile are its orders.
    harness.wait_until_caught_up(timeout=harness.args.drain_timeout)
    orders_before = harness.query("orders", "SELECT count(*) FROM orders_order")[0][0]
    confirmed_before = harness.status_counts().get("confirmed", 0)
    harness.cpu_at_start = None
    stats = harness.run_locust(
        name,
        "OrderUser",
        harness.url("order_service"),
        env=env,
        profile=ORDER_PARTS,
        started=lambda: (
            harness.query("orders", "SELECT count(*) FROM orders_order")[0][0] > orders_before
        ),
    )
    pay = stats["by_name"].get("POST /orders/{id}/pay", {"requests": 0, "failures": 0})
    paid = pay["requests"] - pay["failures"]
    stats["orders_per_second"] = paid / stats["elapsed"] if stats["elapsed"] else 0.0
    if drain:
        confirmed = harness.wait_until_no_paid(None, timeout=harness.args.drain_timeout)
        stats["drain_seconds"] = confirmed
        caught_up = harness.wait_until_caught_up(timeout=harness.args.drain_timeout)
        stats["caught_up_seconds"] = (
            None if confirmed is None or caught_up is None else confirmed + caught_up
        )
        # What the whole system sustains: orders placed *and confirmed* per second, counting
        # the time the worker needed after the run to confirm the backlog. Placement alone
        # can outrun confirmation for a while by leaving the worker's share of the work for
        # later; it is not a rate the system holds.
        if confirmed is not None and stats["elapsed"]:
            stats["sustained_orders_per_second"] = paid / (stats["elapsed"] + confirmed)
        if harness.cpu_at_start is not None:
            stats["per_confirmed_order"] = cpu_per_confirmed_order(harness, confirmed_before)
        say(
            f"{name}: after the run the worker confirmed the backlog of paid orders in "
            f"{_seconds(confirmed)} and had handled every event in "
            f"{_seconds(stats['caught_up_seconds'])}"
        )
    return stats


def cpu_per_confirmed_order(harness: Harness, confirmed_before: int) -> dict:
    """CPU milliseconds per order confirmed from the first order stored to the drained
    backlog, per part and summed over every part (NOT_SUMMED aside)."""
    cpu_before, clock_before = harness.cpu_at_start
    cpu_after, clock_after = harness.cpu_snapshot(), time.monotonic()
    confirmed = harness.status_counts().get("confirmed", 0) - confirmed_before
    if confirmed <= 0:
        return {"confirmed": 0}
    # locust has exited: its CPU since the first order is its whole life's minus what it
    # had used by then (its start-up).
    cpu_after["locust"] = harness.locust_cpu_seconds
    parts = {
        part: round((cpu_after[part] - cpu_before.get(part, 0.0)) * 1000 / confirmed, 2)
        for part in cpu_after
    }
    total = sum(value for part, value in parts.items() if part not in NOT_SUMMED)
    say(f"{confirmed} orders confirmed at {total:.1f} ms of CPU each (every part summed)")
    return {
        "confirmed": confirmed,
        "seconds": round(clock_after - clock_before, 2),
        "ms_by_part": parts,
        "ms_total": round(total, 2),
    }


def scenario_orders(run: Run) -> None:
    run.results["scenarios"]["orders"] = _orders(run, "orders")


def scenario_history(run: Run) -> None:
    """The orders scenario again after seeding ``--history`` earlier orders directly in the
    stores: the CPU per confirmed order must stay within 15 % of the empty-history one."""
    seeded = seed_history(run.harness, run.data, run.harness.args.history)
    stats = _orders(run, "history")
    stats["history_seeded"] = seeded
    run.results["scenarios"]["history"] = stats


def scenario_latency(run: Run) -> None:
    harness = run.harness
    orders = run.results["scenarios"].get("orders")
    if orders is None:
        raise BenchError("the latency scenario needs the orders scenario's throughput")
    # Half the maximum throughput: of the rate the system sustains end to end (placed and
    # confirmed), not of the placement burst, which leaves the worker's work for later.
    target = orders.get("sustained_orders_per_second", orders["orders_per_second"]) / 2
    if target <= 0:
        raise BenchError("the orders scenario placed no order: nothing to pace at half of")
    per_user = target / harness.args.users
    out = VAR / "latency-orders.json"
    out.unlink(missing_ok=True)
    stats = harness.run_locust(
        "latency",
        "OrderUser",
        harness.url("order_service"),
        env={"BENCH_ORDER_RATE_PER_USER": f"{per_user:.6f}", "BENCH_ORDERS_OUT": str(out)},
        profile=ORDER_PARTS,
    )
    placed = json.loads(out.read_text()) if out.exists() else []
    stats["target_orders_per_second"] = target
    stats["orders_placed"] = len(placed)
    ids = [order["id"] for order in placed]
    drained = harness.wait_until_no_paid(ids, timeout=harness.args.drain_timeout)
    stats["drain_seconds"] = drained
    stats["final_statuses"] = dict(harness.status_counts(ids)) if ids else {}
    stats["confirmation"] = confirmation_latency(run, placed)
    stats["segments"] = latency_segments(harness, ids)
    run.results["scenarios"]["latency"] = stats
    conf = stats["confirmation"]
    say(
        f"latency: {conf['count']} orders confirmed; payment->confirmed p50 {conf['p50_ms']} ms,"
        f" p95 {conf['p95_ms']} ms, p99 {conf['p99_ms']} ms"
    )


def confirmation_latency(run: Run, placed: list[dict]) -> dict:
    base = run.harness.url("order_service")

    def history(order: dict) -> dict:
        response = requests.get(
            f"{base}/orders/{order['id']}/status",
            headers={"Authorization": f"Bearer {order['token']}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(history, placed))
    latencies, paid_times, confirmed_times, missing = [], [], [], 0
    for body in bodies:
        times = {}
        for row in body.get("history", []):
            status = row.get("status") or row.get("toStatus") or row.get("to")
            times.setdefault(status, parse_time(row.get("createdAt") or row.get("at")))
        if times.get("paid") and times.get("confirmed"):
            paid_times.append(times["paid"])
            confirmed_times.append(times["confirmed"])
            latencies.append((times["confirmed"] - times["paid"]).total_seconds() * 1000)
        else:
            missing += 1
    run.harness.results_dir.joinpath("latency-confirmation-ms.json").write_text(
        json.dumps(latencies)
    )
    summary = {"count": len(latencies), "not_confirmed": missing}
    if latencies:
        span = (max(confirmed_times) - min(paid_times)).total_seconds()
        summary.update(
            p50_ms=round(percentile(latencies, 50), 1),
            p95_ms=round(percentile(latencies, 95), 1),
            p99_ms=round(percentile(latencies, 99), 1),
            max_ms=round(max(latencies), 1),
            mean_ms=round(statistics.fmean(latencies), 1),
            confirmed_per_second=round(len(latencies) / span, 2) if span > 0 else None,
        )
    else:
        summary.update(p50_ms=None, p95_ms=None, p99_ms=None, max_ms=None, mean_ms=None,
                       confirmed_per_second=None)  # fmt: skip
    return summary


def latency_segments(harness: Harness, order_ids: list[str]) -> dict:
    """Where payment → confirmed goes, per order, from the two databases' timestamps:
    outbox row written → published (``sent_at``) → taken by the worker (event log
    ``received_at``) → handled (``completed_at``)."""
    if not order_ids:
        return {}
    outbox = harness.query(
        "orders",
        "SELECT id::text, created_at, sent_at FROM orders_outboxevent "
        "WHERE event_type = 'order.paid' AND order_id::text = ANY(%s)",
        (order_ids,),
    )
    events = {
        row[0]: row[1:]
        for row in harness.query(
            "integration",
            "SELECT event_id, received_at, completed_at FROM events_processedevent "
            "WHERE event_type = 'order.paid' AND order_id = ANY(%s)",
            (order_ids,),
        )
    }
    segments: dict[str, list[float]] = {"publish": [], "queue": [], "handle": []}
    for event_id, written, sent in outbox:
        received, completed = events.get(event_id, (None, None))
        if not (sent and received and completed):
            continue
        segments["publish"].append((sent - written).total_seconds() * 1000)
        segments["queue"].append((received - sent).total_seconds() * 1000)
        segments["handle"].append((completed - received).total_seconds() * 1000)
    return {
        name: {
            "count": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1),
        }
        for name, values in segments.items()
        if values
    }


def worker_run(run: Run, workers: int) -> dict:
    """Paid orders queued with no worker running, then drained by ``workers`` processes."""
    harness = run.harness
    assert harness.system is not None
    system = harness.system
    harness.wait_until_caught_up(timeout=harness.args.drain_timeout)
    for name in [name for name in system.processes if "worker" in name]:
        system.processes.pop(name).stop()
    count = harness.args.worker_orders
    buyers = run.data["buyers"]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(
            pool.map(
                lambda i: place_paid_order(harness, run.data, buyers[i % len(buyers)]),
                range(count),
            )
        )
    say(
        f"worker x{workers}: {count} paid orders queued in {time.monotonic() - started:.1f}s;"
        " starting the worker(s)"
    )
    counts = harness.status_counts(ids)
    if counts.get("paid", 0) != count:
        raise BenchError(f"orders were handled with no worker running: {dict(counts)}")
    since = harness.query("integration", "SELECT now()")[0][0]
    concurrency = system.settings.worker_concurrency
    system.settings.worker_concurrency = 1
    try:
        for number in range(workers):
            system.start_worker(name=f"bench-worker-{workers}-{number + 1}")
    finally:
        system.settings.worker_concurrency = concurrency
    launched = time.monotonic()
    recorders = harness.start_profiles(
        f"worker{workers}", ("worker", "order_service", "product_service", "secantusdb"), 600
    )
    drained = harness.wait_until_no_paid(ids, timeout=harness.args.drain_timeout)
    wall = time.monotonic() - launched
    profiles = harness.finish_profiles(recorders, early=True)
    rows = harness.query(
        "integration",
        "SELECT event_type, count(*), min(received_at), max(completed_at), "
        "avg(greatest(0, extract(epoch FROM completed_at - received_at))) "
        "FROM events_processedevent WHERE received_at >= %s GROUP BY event_type",
        (since,),
    )
    events = {row[0]: row[1] for row in rows}
    # Received → completed for one event: its handling time inside the task.
    handling_ms = {row[0]: round(float(row[4]) * 1000, 1) for row in rows if row[4] is not None}
    first = min((row[2] for row in rows), default=None)
    last = max((row[3] for row in rows if row[3] is not None), default=None)
    window = (last - first).total_seconds() if first and last else None
    handled = sum(events.values())
    result = {
        "workers": workers,
        "orders": count,
        "final_statuses": dict(harness.status_counts(ids)),
        "drained": drained is not None,
        "wall_seconds_from_launch": round(wall, 2),
        "events_by_type": events,
        "handling_ms_by_type": handling_ms,
        "events_handled": handled,
        "window_seconds": round(window, 3) if window else None,
        "events_per_second": round(handled / window, 1) if window else None,
        "paid_orders_per_second": round(events.get("order.paid", 0) / window, 1)
        if window
        else None,
    }
    if profiles:
        result["profiles"] = profiles
    say(
        f"worker x{workers}: {handled} events in {result['window_seconds']} s ="
        f" {result['events_per_second']} events/s, {result['paid_orders_per_second']}"
        " paid orders/s"
    )
    return result


def scenario_worker(run: Run) -> None:
    harness = run.harness
    assert harness.system is not None
    runs = [worker_run(run, 1), worker_run(run, 2)]
    for name in [name for name in harness.system.processes if "worker" in name]:
        harness.system.processes.pop(name).stop()
    harness.system.start_worker()
    run.results["scenarios"]["worker"] = {"runs": runs}


def verify_cache_off(run: Run, service: str) -> bool:
    """Six authenticated requests to ``service`` in a row: with the cache off, user_service
    answers six ``/internal/verify`` calls (with it on, at most one per gunicorn worker)."""
    harness = run.harness
    token = run.data["buyers"][0]["token"]
    path = "/orders" if service == "order_service" else f"/product/{run.data['order_products'][0]}"
    before = harness.log_counts().get("verify", 0)
    for _ in range(6):
        requests.get(
            f"{harness.url(service)}{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    time.sleep(0.5)
    return harness.log_counts().get("verify", 0) - before >= 6


def scenario_nocache(run: Run) -> None:
    harness = run.harness
    say("restarting product_service and order_service with VERIFY_CACHE_SECONDS=0")
    reads = {}
    for service in ("product_service", "order_service"):
        harness.restart_service(service, {"VERIFY_CACHE_SECONDS": "0"})
        reads[service] = verify_cache_off(run, service)
        if not reads[service]:
            # The service ignores the variable: set it through the settings shim.
            harness.restart_service(
                service,
                {
                    "VERIFY_CACHE_SECONDS": "0",
                    "DJANGO_SETTINGS_MODULE": "bench_nocache_settings",
                    "BENCH_SERVICE_SETTINGS": f"{service}.settings",
                    "PYTHONPATH": os.pathsep.join(
                        filter(None, [str(BENCH / "nocache"), os.environ.get("PYTHONPATH")])
                    ),
                },
            )
    try:
        stats = _orders(run, "nocache")
        stats["reads_env"] = reads
        run.results["scenarios"]["nocache"] = stats
    finally:
        say("restarting product_service and order_service with the verify cache on")
        for service in ("product_service", "order_service"):
            harness.restart_service(service, {})


Scenario = Callable[[Run], None]
# orders runs first of the order scenarios, against an empty order history; history right
# after it, against the same plus --history seeded earlier orders (the cost of an order must not
# grow with history); nocache after them.
SCENARIOS: dict[str, Scenario] = {
    "ceiling": scenario_ceiling,
    "catalogue": scenario_catalogue,
    "catalogue_nocache": scenario_catalogue_nocache,
    "orders": scenario_orders,
    "history": scenario_history,
    "nocache": scenario_nocache,
    "latency": scenario_latency,
    "worker": scenario_worker,
}


def _seconds(value: float | None) -> str:
    return "TIMEOUT" if value is None else f"{value:.1f} s"


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

"""The load benchmark of the whole system in real mode; writes bench/RESULTS.md.

Started by ``./manage_all.sh bench [options]`` (bench/run.sh installs the load
tool first). It brings the system up through scripts/system.py on free ports
(PostgreSQL databases ``ecommerce_bench_*``, a private RabbitMQ vhost, its own
SecantusDB, gunicorn with deploy/gunicorn.conf.py, the worker and the
scheduler), seeds users and products over the public API, drives each scenario
with locust (headless, one process), and always stops everything it started,
also on Ctrl-C or SIGTERM. See bench/README.md for what each scenario measures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "scripts"))

from ecommerce_common import infra  # noqa: E402
from ecommerce_common.testing import history  # noqa: E402
from launcher.config import BIN, Settings  # noqa: E402
from launcher.processes import System  # noqa: E402

RESULTS = BENCH / "results"
VAR = BENCH / "var"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
VHOST = "ecommerce_bench"
# The parts an order goes through, profiled with --profile.
ORDER_PARTS = ("order_service", "product_service", "user_service", "secantusdb", "worker")
# orders runs first of the order scenarios, against an empty order history; history right
# after it, against the same plus --history seeded earlier orders (the cost of an order must not
# grow with history); nocache after them.
SCENARIOS = (
    "ceiling", "catalogue", "catalogue_nocache", "orders", "history", "nocache", "latency",
    "worker",
)  # fmt: skip
# The parts counted in the machine CPU per confirmed order and per request: every process an
# order goes through, the load tool included (the ceiling's idle gunicorn, the whole-server
# PostgreSQL figure and the machine-wide one are shown but not summed).
NOT_SUMMED = ("ceiling", "postgresql (whole server)", "machine (all processes)")
CATEGORIES = ["Electronics", "Clothing", "Books", "Home & Kitchen", "Beauty", "Sports", "Other"]
TAGS = ["new", "sale", "eco", "premium", "gift", "bestseller", "limited", "classic"]
ADJECTIVES = ["Compact", "Deluxe", "Rugged", "Smart", "Classic", "Portable", "Organic", "Vintage"]
NOUNS = [
    "lamp", "kettle", "backpack", "novel", "jacket", "blender", "speaker", "serum",
    "racket", "mug", "charger", "scarf", "atlas", "yoga mat", "pan", "headset",
]  # fmt: skip
SEARCH_WORDS = ["lamp", "kettle", "novel", "jacket", "speaker", "mug", "smart", "vintage"]
# Whatever the benchmark needs the services to allow: many registrations from one address,
# access tokens that outlive the whole run.
SYSTEM_ENV = {
    "THROTTLE_REGISTER_RATE": "1000000/hour",
    "THROTTLE_TOKEN_REFRESH_RATE": "1000000/minute",
    "JWT_ACCESS_TOKEN_MINUTES": "120",
    "LOGIN_FAILURE_LIMIT_PER_IP": "1000000",
    # The write rate limits and the open-orders cap (every buyer orders from one address).
    **{
        f"THROTTLE_{scope}_{kind}_RATE": "1000000/minute"
        for scope in ("ORDER_CREATE", "ORDER_PAY", "PRODUCT_CREATE", "REVIEW_CREATE")
        for kind in ("USER", "IP")
    },
    "ORDER_MAX_OPEN_PER_USER": "1000000",
}
# Seeding over the API hashes a password twice per buyer (Argon2): on a loaded machine one call
# can take far longer than a request under test may.
SEED_TIMEOUT = 180
FINAL_STATUSES = {"confirmed", "out_of_stock", "cancelled", "expired", "payment_failed"}


class BenchError(RuntimeError):
    """The benchmark could not run as asked."""


def say(message: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


# --- the machine ----------------------------------------------------------------------------


def _command_output(command: list[str], timeout: float = 30) -> str:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (result.stdout or result.stderr).strip() or "unknown"


def machine_description(postgres_url: str) -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    postgres = "unknown"
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(f"{postgres_url}/postgres") as conn:
            postgres = conn.execute("SHOW server_version").fetchone()[0]
    rabbitmq = "unknown"
    ctl = shutil.which("rabbitmqctl")
    if ctl:
        rabbitmq = _command_output([ctl, "version"]).splitlines()[-1]
    versions = {}
    for package in (
        "Django", "djangorestframework", "gunicorn", "celery", "kombu", "psycopg",
        "pymongo", "django-mongodb-backend", "SecantusDB", "locust",
    ):  # fmt: skip
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "memory": memory,
        "kernel": platform.release(),
        "os": _command_output(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": platform.python_version(),
        "postgresql": postgres,
        "rabbitmq": rabbitmq,
        "versions": ", ".join(f"{name} {version}" for name, version in versions.items()),
        "commit": _command_output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
    }


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- the system -----------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.postgres_url = os.environ.get(
            "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"
        )
        self.system: System | None = None
        self.ceiling: infra.Process | None = None
        self.ceiling_port = 0
        self.locust: subprocess.Popen | None = None
        self.data: dict = {}
        self.results: dict = {"scenarios": {}}
        self.http = requests.Session()
        # CPU seconds last seen per PostgreSQL backend serving a bench database (pid → seconds):
        # a backend that exits keeps its last figure, so the sum only ever grows.
        self._pg_backends: dict[int, float] = {}
        self._pg_lock = threading.Lock()
        self._pg_stop = threading.Event()
        self.locust_cpu_seconds = 0.0
        self._server_processes: dict[str, dict[int, float]] = {}

    # --- lifecycle ---

    def settings(self) -> Settings:
        extra = dict(SYSTEM_ENV)
        extra["LOG_LEVEL"] = self.args.log_level
        extra["LOG_FORMAT"] = "json"
        if self.args.access_log:
            extra["GUNICORN_ACCESS_LOG"] = "true"
        return Settings(
            var_dir=VAR,
            mode="real",
            ports={service: infra.free_port() for service in Settings().ports},
            postgres_url=self.postgres_url,
            database_prefix="ecommerce_bench_",
            broker_url=infra.rabbitmq_vhost(VHOST),
            web_concurrency=self.args.web_concurrency,
            worker_concurrency=self.args.worker_concurrency,
            extra_env=extra,
            # A real MongoDB instead of the run's own SecantusDB, when given.
            mongodb_uri=os.environ.get("BENCH_MONGODB_URI") or None,
            quiet=False,
        )

    def start(self, *, system: bool) -> None:
        shutil.rmtree(VAR, ignore_errors=True)
        (VAR / "logs").mkdir(parents=True)
        threading.Thread(target=self.track_pg_backends, daemon=True).start()
        if system:
            self.system = System(self.settings())
            self.system.drop_postgres_databases()
            say("preparing the system (databases, migrations, SecantusDB)")
            self.system.prepare()
            say("starting the four services, the worker and the scheduler")
            self.system.start()
            # user_service's access log counts the /internal/verify calls (the verify cache).
            self.restart_service("user_service", {"GUNICORN_ACCESS_LOG": "true"})
        self.ceiling_port = infra.free_port()
        env = {
            "DJANGO_SETTINGS_MODULE": "ceiling.settings",
            "WEB_CONCURRENCY": str(self.args.web_concurrency),
            "HOST": "127.0.0.1",
            "PORT": str(self.ceiling_port),
            "PYTHONUNBUFFERED": "1",
        }
        if self.args.access_log:
            env["GUNICORN_ACCESS_LOG"] = "true"
        self.ceiling = infra.Process(
            "ceiling",
            [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "ceiling.wsgi:application"],
            env=env,
            cwd=BENCH / "ceiling",
            log_dir=VAR / "logs",
        ).start()
        infra.wait_for_http(f"{self.ceiling_url}/health", timeout=60, process=self.ceiling.popen)

    def stop(self) -> None:
        self._pg_stop.set()
        if self.locust is not None and self.locust.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.locust.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.locust.wait(timeout=10)
            if self.locust.poll() is None:
                os.killpg(self.locust.pid, signal.SIGKILL)
        if self.ceiling is not None:
            self.ceiling.stop()
        if self.system is not None:
            say("stopping the system")
            self.system.stop()
            if not self.args.keep_databases:
                with contextlib.suppress(Exception):
                    self.system.drop_postgres_databases()
        ctl = shutil.which("rabbitmqctl")
        if ctl and not self.args.keep_databases:
            subprocess.run(
                [ctl, "delete_vhost", VHOST], capture_output=True, timeout=60, check=False
            )

    @property
    def ceiling_url(self) -> str:
        return f"http://127.0.0.1:{self.ceiling_port}"

    def url(self, service: str) -> str:
        assert self.system is not None
        return self.system.settings.url(service)

    def restart_service(self, service: str, extra_env: dict[str, str]) -> None:
        """Restart one web service with extra environment (the same command as System.start)."""
        assert self.system is not None
        self.system.processes[service].stop()
        env = {**self.system.environment(service), **extra_env}
        self.system._start(
            service,
            [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), f"{service}.wsgi:application"],
            cwd=ROOT / service,
            env=env,
        )
        infra.wait_for_http(
            f"{self.url(service)}/ready", timeout=90, process=self.system.processes[service].popen
        )

    # --- where the CPU went ---

    def log_counts(self) -> dict[str, int]:
        """Counts so far, from the logs: ``/internal/verify`` calls user_service answered (its
        access log) and gunicorn workers booted per service (``max_requests`` recycling)."""
        counts: dict[str, int] = {}
        processes = dict(self.system.processes) if self.system is not None else {}
        if self.ceiling is not None:
            processes["ceiling"] = self.ceiling
        for name, process in processes.items():
            try:
                text = process.log_path.read_text(errors="replace")
            except OSError:
                continue
            if name == "user_service":
                counts["verify"] = text.count("/internal/verify")
            counts[f"boots:{name}"] = text.count("Booting worker with pid")
        return counts

    def profile_pids(self, part: str) -> list[int]:
        assert self.system is not None
        if part == "worker":
            return [p.pid for name, p in self.system.processes.items() if "worker" in name]
        return [self.system.processes[part].pid] if part in self.system.processes else []

    def start_profiles(self, scenario: str, parts: tuple[str, ...], seconds: int) -> list:
        if not self.args.profile or not parts or self.system is None:
            return []
        from profiling import Recorder

        recorders = []
        for part in parts:
            for number, pid in enumerate(self.profile_pids(part)):
                output = RESULTS / f"profile-{scenario}-{part}-{number}.txt"
                recorder = Recorder(
                    str(BIN / "py-spy"),
                    pid,
                    output,
                    seconds=max(seconds, 1),
                    gil=self.args.profile == "cpu",
                )
                recorder.part = part
                recorders.append(recorder)
        return recorders

    def finish_profiles(self, recorders: list, *, early: bool = False) -> dict:
        if not recorders:
            return {}
        from profiling import ANCHORS, WEB_ANCHOR, summarise

        for recorder in recorders:
            if early:
                recorder.stop()
            recorder.wait()
        merged: dict[str, Path] = {}
        for recorder in recorders:
            # profile-<scenario>-<part>-<n>.txt → profile-<scenario>-<part>.txt
            target = recorder.output.with_name(recorder.output.name.rsplit("-", 1)[0] + ".txt")
            if recorder.part not in merged:
                target.write_text("")
                merged[recorder.part] = target
            if recorder.output.exists():
                with open(target, "a") as out:
                    out.write(recorder.output.read_text(errors="replace"))
                recorder.output.unlink()
        return {
            part: summarise(path, str(ROOT), anchor=ANCHORS.get(part, WEB_ANCHOR))
            for part, path in merged.items()
        }

    def cpu_snapshot(self) -> dict[str, float]:
        """CPU seconds used so far by each part (its process tree) and by the shared servers."""
        import psutil

        parts: dict[str, list[int]] = {}
        if self.system is not None:
            for name, process in self.system.processes.items():
                parts["worker" if "worker" in name else name] = [
                    *parts.get("worker" if "worker" in name else name, []),
                    process.pid,
                ]
        if self.ceiling is not None:
            parts["ceiling"] = [self.ceiling.pid]
        if self.locust is not None:
            parts["locust"] = [self.locust.pid]
        seconds: dict[str, float] = {}
        for name, pids in parts.items():
            total = 0.0
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    # The root's reaped children count too: gunicorn replaces its workers
                    # (max_requests), and a replaced worker's CPU time is its master's now.
                    times = root.cpu_times()
                    total += times.user + times.system + times.children_user
                    total += times.children_system
                    for proc in root.children(recursive=True):
                        with contextlib.suppress(psutil.Error):
                            times = proc.cpu_times()
                            total += times.user + times.system
            seconds[name] = total
        seconds["postgresql (bench databases)"] = self.pg_backends_cpu()
        for label, names in (
            ("postgresql (whole server)", {"postgres"}),
            ("rabbitmq (whole server)", {"beam.smp", "erl_child_setup", "epmd", "inet_gethost"}),
        ):
            # Last seen per process, kept after it exits: a helper that ends (or a restart)
            # must not make the sum go backwards.
            seen = self._server_processes.setdefault(label, {})
            for proc in psutil.process_iter(["name", "cpu_times"]):
                if proc.info["name"] in names and proc.info["cpu_times"] is not None:
                    seen[proc.pid] = proc.info["cpu_times"].user + proc.info["cpu_times"].system
            seconds[label] = sum(seen.values())
        times = psutil.cpu_times()
        seconds["machine (all processes)"] = times.user + times.system + times.nice
        return seconds

    def pg_backends_cpu(self) -> float:
        """CPU seconds of the PostgreSQL backends serving the bench databases, from their own
        accounting (the server is shared with other work; its process title names the database
        of each backend), including backends that have exited since they were last seen."""
        import psutil

        with self._pg_lock:
            for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
                if proc.info["name"] != "postgres" or proc.info["cpu_times"] is None:
                    continue
                if "ecommerce_bench_" not in " ".join(proc.info["cmdline"] or ()):
                    continue
                times = proc.info["cpu_times"]
                self._pg_backends[proc.pid] = times.user + times.system
            return sum(self._pg_backends.values())

    def track_pg_backends(self) -> None:
        """Every 0.5 s, so a short-lived backend's CPU is seen before it exits."""
        while not self._pg_stop.wait(0.5):
            with contextlib.suppress(Exception):
                self.pg_backends_cpu()

    # --- PostgreSQL under load: what the bench databases' sessions wait for, work done ---

    def pg_stats(self) -> dict[str, dict[str, int]]:
        """Cumulative transactions and rows per bench database (pg_stat_database)."""
        if self.system is None:
            return {}
        rows = self.query(
            "orders",
            "SELECT datname, xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched "
            "FROM pg_stat_database WHERE datname LIKE 'ecommerce_bench_%%'",
        )
        keys = ("commits", "rollbacks", "inserted", "updated", "fetched")
        return {
            row[0].removeprefix("ecommerce_bench_"): dict(zip(keys, row[1:], strict=True))
            for row in rows
        }

    def sample_waits(self, stop: threading.Event, into: Counter) -> None:
        """Every 0.2 s: the bench sessions that are active, by what they wait for."""
        import psycopg

        try:
            with psycopg.connect(f"{self.postgres_url}/postgres", autocommit=True) as conn:
                while not stop.wait(0.2):
                    for db, kind, event, count in conn.execute(
                        "SELECT datname, coalesce(wait_event_type, 'CPU'), "
                        "coalesce(wait_event, 'running'), count(*) FROM pg_stat_activity "
                        "WHERE datname LIKE 'ecommerce_bench_%' AND state = 'active' "
                        "AND pid <> pg_backend_pid() GROUP BY 1, 2, 3"
                    ).fetchall():
                        into[f"{db.removeprefix('ecommerce_bench_')} {kind}:{event}"] += count
                    into["samples"] += 1
        except Exception as exc:  # diagnostics only; never fail the run for them
            into[f"sampler error: {exc.__class__.__name__}"] += 1

    # --- databases (read only: progress of the worker) ---

    def query(self, database: str, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        name = f"ecommerce_bench_{database}"
        with psycopg.connect(f"{self.postgres_url}/{name}") as conn:
            return conn.execute(sql, params).fetchall()

    def status_counts(self, order_ids: list[str] | None = None) -> Counter:
        if order_ids is None:
            rows = self.query("orders", "SELECT status, count(*) FROM orders_order GROUP BY status")
        else:
            rows = self.query(
                "orders",
                "SELECT status, count(*) FROM orders_order WHERE id::text = ANY(%s) GROUP BY status",
                (order_ids,),
            )
        return Counter(dict(rows))

    def events_pending(self) -> int:
        """Events order_service has written to its outbox that the worker has not finished."""
        written = self.query(
            "orders", "SELECT count(*) FROM orders_outboxevent WHERE state <> 'not_routed'"
        )[0][0]
        handled = self.query(
            "integration",
            "SELECT count(*) FROM events_processedevent WHERE outcome IN ('applied', 'ignored', "
            "'dead')",
        )[0][0]
        return max(0, written - handled)

    def wait_until_caught_up(self, timeout: float) -> float | None:
        """Seconds until the worker has handled every event published so far (its queue is
        empty, so nothing sits in front of the next scenario's events)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.events_pending() == 0:
                return time.monotonic() - started
            time.sleep(0.25)
        return None

    def wait_until_no_paid(self, order_ids: list[str] | None, timeout: float) -> float | None:
        """Seconds until none of the orders is left in ``paid`` (the worker caught up)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.status_counts(order_ids).get("paid", 0) == 0:
                return time.monotonic() - started
            time.sleep(0.2)
        return None

    # --- seeding over the public API ---

    def post(self, url: str, **kwargs) -> requests.Response:
        """A seeding call, sent again (up to 5 times) after a reset connection or a 5xx: the
        machine is shared, and a kept-alive connection the server just closed, or a database
        restarted by other work, must not end the run. Callers send only what may be repeated
        (logins; a registration with a fresh address each time)."""
        for attempt in range(5):
            try:
                response = self.http.post(url, timeout=SEED_TIMEOUT, **kwargs)
            except requests.ConnectionError:
                if attempt == 4:
                    raise
            else:
                if response.status_code < 500 or attempt == 4:
                    return response
            time.sleep(1 + attempt)
        raise AssertionError("unreachable")

    def login(self, email: str, password: str) -> str:
        response = self.post(
            f"{self.url('user_service')}/users/login", json={"email": email, "password": password}
        )
        if response.status_code != 200:
            raise BenchError(f"login {email}: {response.status_code} {response.text[:300]}")
        return response.json()["token"]

    def register_buyer(self, number: int) -> dict:
        password = "Bench-passw0rd-!x"
        for attempt in range(5):
            # A fresh address per attempt: a failed attempt may have registered its own.
            email = f"bench-buyer-{number}-{random.randrange(10**9)}@example.com"
            try:
                response = requests.post(
                    f"{self.url('user_service')}/users/register",
                    json={"firstName": "Bench", "lastName": f"Buyer{number}", "email": email,
                          "password": password},
                    timeout=SEED_TIMEOUT,
                )  # fmt: skip
            except requests.ConnectionError:
                if attempt == 4:
                    raise
                continue
            if response.status_code < 500 or attempt == 4:
                break
            time.sleep(1 + attempt)
        if response.status_code != 201:
            raise BenchError(f"register: {response.status_code} {response.text[:300]}")
        return {"email": email, "token": self.login(email, password)}

    def create_product(self, token: str, body: dict) -> str:
        response = requests.post(
            f"{self.url('product_service')}/product/",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=SEED_TIMEOUT,
        )
        if response.status_code != 201:
            raise BenchError(f"create product: {response.status_code} {response.text[:300]}")
        return response.json()["id"]

    def seed(self) -> None:
        assert self.system is not None
        args = self.args
        rng = random.Random(7)
        env = self.system.environment("user_service")
        admin = self.login(env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"])
        catalogue = []
        for number in range(args.products):
            adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
            catalogue.append({
                "title": f"{adjective} {noun} {number}",
                "description": f"A {adjective.lower()} {noun} for the benchmark catalogue.",
                "price": round(rng.uniform(5, 200), 2),
                "category": CATEGORIES[number % len(CATEGORIES)],
                "quantity": rng.randint(1, 500),
                "imageUrl": f"https://example.com/bench/{number}.png",
                "tags": rng.sample(TAGS, 2),
            })  # fmt: skip
        stocked = [
            {
                "title": f"Bench stock item {number}",
                "description": "Plenty of stock for the order scenarios.",
                "price": 10.0 + number,
                "category": "Other",
                "quantity": args.stock,
                "imageUrl": "https://example.com/bench/stock.png",
                "tags": ["bench-stock"],
            }
            for number in range(args.order_products)
        ]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            catalogue_ids = list(pool.map(lambda body: self.create_product(admin, body), catalogue))
            order_ids = list(pool.map(lambda body: self.create_product(admin, body), stocked))
            buyers = list(pool.map(self.register_buyer, range(args.buyers)))
        say(
            f"seeded {len(catalogue_ids)} catalogue products, {len(order_ids)} stocked products, "
            f"{len(buyers)} buyers with tokens in {time.monotonic() - started:.1f}s"
        )
        self.data = {
            "categories": CATEGORIES,
            "tags": TAGS,
            "search_words": SEARCH_WORDS,
            "catalogue_products": catalogue_ids,
            # Pages of 20 (the API's default size) that every category fills.
            "full_pages": max(1, len(catalogue_ids) // len(CATEGORIES) // 20),
            "order_products": order_ids,
            "buyers": buyers,
        }
        (VAR / "bench-data.json").write_text(json.dumps(self.data))

    # --- seeding history directly in the stores ---

    def seed_history(self, count: int) -> dict:
        """``count`` earlier confirmed orders, written straight into the stores in bulk: in
        product_service's ``stock_reservations`` (copies of a real committed reservation), in
        order_service's PostgreSQL (order, item, three status history rows, three outbox rows,
        the approved payment: what an order leaves behind) and in the integration event log
        (its ``order.paid`` row). Nothing of it is in flight, so no process acts on it."""
        started = time.monotonic()
        # SecantusDB takes the longest: it runs beside the two PostgreSQL databases' inserts.
        with ThreadPoolExecutor(max_workers=3) as pool:
            mongo = pool.submit(self._seed_history_reservations, count)
            rows = [
                pool.submit(self._seed_history_rows, database, statements, count)
                for database, statements in (
                    ("orders", history.ORDERS_SQL),
                    ("integration", history.EVENTS_SQL),
                )
            ]
            mongo_seconds = mongo.result()
            for done in rows:
                done.result()
        seconds = time.monotonic() - started
        say(
            f"seeded {count} earlier orders in the stores in {seconds:.1f}s "
            f"(stock_reservations {mongo_seconds:.1f}s)"
        )
        return {
            "orders": count,
            "seconds": round(seconds, 1),
            "mongo_seconds": round(mongo_seconds, 1),
        }

    def _seed_history_reservations(self, count: int) -> float:
        import pymongo

        assert self.system is not None
        started = time.monotonic()
        env = self.system.environment("product_service")
        uri = env["MONGODB_URI"]
        database = pymongo.uri_parser.parse_uri(uri).get("database") or env.get(
            "MONGODB_DB_NAME", "ecommerce_products"
        )
        products = self.data["order_products"]
        with pymongo.MongoClient(uri) as client:
            reservations = client[database]["stock_reservations"]
            template = reservations.find_one({"state": "committed"})
            if template is None:
                raise BenchError("no committed reservation to copy: run the orders scenario first")
            template.pop("_id")
            base = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
            batch = []
            for number in range(1, count + 1):
                at = base + dt.timedelta(seconds=number)
                item = {**template["items"][0], "productId": products[number % len(products)]}
                batch.append({
                    **template,
                    "order_id": str(_history_uuid("order", number)),
                    "items": [item],
                    "expires_at": at + dt.timedelta(minutes=20),
                    "created_at": at,
                    "updated_at": at + dt.timedelta(seconds=2),
                })  # fmt: skip
                if len(batch) == 5000 or number == count:
                    reservations.insert_many(batch, ordered=False)
                    batch = []
        return time.monotonic() - started

    def _seed_history_rows(self, database: str, statements: tuple[str, ...], count: int) -> None:
        import psycopg

        url = f"{self.postgres_url}/ecommerce_bench_{database}"
        params = {"count": count, "products": self.data["order_products"]}
        with psycopg.connect(url) as conn, conn.cursor() as cursor:
            history.history_seed(cursor, statements, **params)
        with psycopg.connect(url, autocommit=True) as conn:
            # Fresh statistics, as a database that grew over time would have.
            conn.execute("ANALYZE")

    def place_paid_order(self, buyer: dict) -> str:
        headers = {"Authorization": f"Bearer {buyer['token']}"}
        product = random.choice(self.data["order_products"])
        response = requests.post(
            f"{self.url('order_service')}/orders",
            json={"items": [{"productId": product, "quantity": 1}]},
            headers=headers,
            timeout=30,
        )
        if response.status_code != 201:
            raise BenchError(f"create order: {response.status_code} {response.text[:300]}")
        order_id = response.json()["id"]
        response = requests.post(
            f"{self.url('order_service')}/orders/{order_id}/pay",
            json={"paymentToken": "tok_visa"},
            headers=headers,
            timeout=30,
        )
        if not 200 <= response.status_code < 300:
            raise BenchError(f"pay: {response.status_code} {response.text[:300]}")
        return order_id

    def warm_up(self, scenario: str) -> None:
        """A few requests so every gunicorn worker has imported and connected before timing."""
        if scenario == "ceiling":
            calls = [lambda: requests.get(f"{self.ceiling_url}/ceiling", timeout=30)] * 40
        elif scenario == "catalogue":
            product = self.data["catalogue_products"][0]
            base = self.url("product_service")
            calls = [
                lambda: requests.get(f"{base}/product/", params={"category": "Books"}, timeout=30),
                lambda: requests.get(f"{base}/product/{product}", timeout=30),
            ] * 20
        else:
            buyers = self.data["buyers"]
            chosen = [buyers[i % len(buyers)] for i in range(16)]
            calls = [lambda buyer=buyer: self.place_paid_order(buyer) for buyer in chosen]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda call: call(), calls))

    # --- locust ---

    def run_locust(
        self,
        name: str,
        user_class: str,
        host: str,
        *,
        env: dict[str, str] | None = None,
        duration: int | None = None,
        profile: tuple[str, ...] = (),
        started: Callable[[], bool] | None = None,
    ) -> dict:
        """Run one locust scenario. With ``started``, the CPU of every part is also read the
        moment ``started()`` first holds (the first order stored), into ``self.cpu_at_start``."""
        args = self.args
        duration = duration or args.duration
        prefix = RESULTS / name
        command = [
            str(BIN / "locust"),
            "-f", str(BENCH / "locustfile.py"),
            "--headless",
            "-u", str(args.users),
            "-r", str(args.spawn_rate or args.users),
            "-t", f"{duration}s",
            "--stop-timeout", "10",
            "--host", host,
            "--csv", str(prefix),
            "--csv-full-history",  # per request name over time too (bench/charts.py)
            "--only-summary",
            "--loglevel", "WARNING",
            "--exit-code-on-error", "0",
            user_class,
        ]  # fmt: skip
        say(f"{name}: locust {user_class}, {args.users} users, {duration}s against {host}")
        load_before = load_average()
        # locust's own CPU over its whole life, from the kernel's accounting of reaped children
        # (psutil cannot read a process that has exited).
        reaped_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(RESULTS / f"{name}.locust.log", "w") as log:
            self.locust = subprocess.Popen(
                command,
                env={**os.environ, "BENCH_DATA": str(VAR / "bench-data.json"), **(env or {})},
                cwd=BENCH,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            launched = time.monotonic()
            if started is not None:
                while not started() and time.monotonic() - launched < duration:
                    time.sleep(0.05)
                self.cpu_at_start = (self.cpu_snapshot(), time.monotonic())
            # CPU used by each part during the measured window (locust's start-up excluded).
            settle = min(3.0, duration / 4)
            time.sleep(max(0.0, settle - (time.monotonic() - launched)))
            logs_before = self.log_counts()
            pg_before = self.pg_stats()
            waits: Counter = Counter()
            stop_sampling = threading.Event()
            sampler = threading.Thread(target=self.sample_waits, args=(stop_sampling, waits))
            if self.system is not None:
                sampler.start()
            cpu_before, clock_before = self.cpu_snapshot(), time.monotonic()
            recorders = self.start_profiles(name, profile, int(duration - settle - 1))
            time.sleep(max(0.0, duration - settle - 1))
            cpu_after, clock_after = self.cpu_snapshot(), time.monotonic()
            logs_after = self.log_counts()
            pg_after = self.pg_stats()
            stop_sampling.set()
            if sampler.is_alive():
                sampler.join(timeout=5)
            code = self.locust.wait(timeout=duration + 120)
        reaped_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.locust_cpu_seconds = (reaped_after.ru_utime - reaped_before.ru_utime) + (
            reaped_after.ru_stime - reaped_before.ru_stime
        )
        self.locust = None
        profiles = self.finish_profiles(recorders)
        if code != 0:
            tail = (RESULTS / f"{name}.locust.log").read_text()[-2000:]
            raise BenchError(f"locust failed for {name} (exit {code}):\n{tail}")
        stats = parse_locust(prefix)
        stats["load_before"] = load_before
        stats["load_after"] = load_average()
        stats["command"] = " ".join(shlex.quote(part) for part in command)
        window = clock_after - clock_before
        if profiles:
            stats["profiles"] = profiles
        if "verify" in logs_after:
            calls = logs_after["verify"] - logs_before.get("verify", 0)
            stats["verify_calls_per_second"] = round(calls / window, 1)
        stats["postgres_per_second"] = {
            db: {key: round((value - pg_before.get(db, {}).get(key, 0)) / window, 1)
                 for key, value in counters.items()}
            for db, counters in pg_after.items()
        }  # fmt: skip
        samples = waits.pop("samples", 0)
        stats["postgres_active_sessions"] = {
            key: round(count / samples, 2) for key, count in waits.most_common(12) if samples
        }
        stats["worker_boots"] = {
            key.split(":", 1)[1]: logs_after[key] - logs_before.get(key, 0)
            for key in logs_after
            if key.startswith("boots:") and logs_after[key] - logs_before.get(key, 0)
        }
        stats["cpu_cores"] = {
            part: round((cpu_after[part] - cpu_before.get(part, 0.0)) / window, 2)
            for part in cpu_after
            if window > 0
        }
        total = stats["total"]
        say(
            f"{name}: {total['requests']} requests, {total['rps']:.1f} req/s, "
            f"p50 {total['p50']} ms, p95 {total['p95']} ms, {total['failures']} failures"
        )
        return stats

    # --- scenarios ---

    def scenario_ceiling(self) -> None:
        self.warm_up("ceiling")
        self.results["scenarios"]["ceiling"] = self.run_locust(
            "ceiling", "CeilingUser", self.ceiling_url
        )

    def scenario_catalogue(self) -> None:
        self.results["scenarios"]["catalogue"] = self._catalogue("catalogue")

    def _catalogue(self, name: str) -> dict:
        """CatalogueUser against product_service, counting the answers' ``X-Cache`` values."""
        self.warm_up("catalogue")
        outcomes_file = VAR / f"{name}-cache.json"
        stats = self.run_locust(
            name,
            "CatalogueUser",
            self.url("product_service"),
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

    def catalogue_cache_header(self) -> str | None:
        """The ``X-Cache`` header of a product detail, twice in a row: None when the cache is off."""
        url = f"{self.url('product_service')}/product/{self.data['catalogue_products'][0]}"
        requests.get(url, timeout=30)
        return requests.get(url, timeout=30).headers.get("X-Cache")

    def scenario_catalogue_nocache(self) -> None:
        say("restarting product_service with CATALOGUE_CACHE_SECONDS=0")
        self.restart_service("product_service", {"CATALOGUE_CACHE_SECONDS": "0"})
        try:
            header = self.catalogue_cache_header()
            if header is not None:
                raise BenchError(
                    f"product_service still caches with CATALOGUE_CACHE_SECONDS=0 (X-Cache: {header})"
                )
            self.results["scenarios"]["catalogue_nocache"] = self._catalogue("catalogue_nocache")
        finally:
            say("restarting product_service with the catalogue cache on")
            self.restart_service("product_service", {})

    def _orders(self, name: str, env: dict[str, str] | None = None, *, drain: bool = True) -> dict:
        self.warm_up("orders")
        # Nothing left over from before: the CPU from the first order to the drained backlog is
        # then this scenario's alone, and the orders confirmed meanwhile are its orders.
        self.wait_until_caught_up(timeout=self.args.drain_timeout)
        orders_before = self.query("orders", "SELECT count(*) FROM orders_order")[0][0]
        confirmed_before = self.status_counts().get("confirmed", 0)
        self.cpu_at_start = None
        stats = self.run_locust(
            name,
            "OrderUser",
            self.url("order_service"),
            env=env,
            profile=ORDER_PARTS,
            started=lambda: (
                self.query("orders", "SELECT count(*) FROM orders_order")[0][0] > orders_before
            ),
        )
        pay = stats["by_name"].get("POST /orders/{id}/pay", {"requests": 0, "failures": 0})
        paid = pay["requests"] - pay["failures"]
        stats["orders_per_second"] = paid / stats["elapsed"] if stats["elapsed"] else 0.0
        if drain:
            confirmed = self.wait_until_no_paid(None, timeout=self.args.drain_timeout)
            stats["drain_seconds"] = confirmed
            caught_up = self.wait_until_caught_up(timeout=self.args.drain_timeout)
            stats["caught_up_seconds"] = (
                None if confirmed is None or caught_up is None else confirmed + caught_up
            )
            # What the whole system sustains: orders placed *and confirmed* per second, counting
            # the time the worker needed after the run to confirm the backlog. Placement alone
            # can outrun confirmation for a while by leaving the worker's share of the work for
            # later; it is not a rate the system holds.
            if confirmed is not None and stats["elapsed"]:
                stats["sustained_orders_per_second"] = paid / (stats["elapsed"] + confirmed)
            if self.cpu_at_start is not None:
                stats["per_confirmed_order"] = self.cpu_per_confirmed_order(confirmed_before)
            say(
                f"{name}: after the run the worker confirmed the backlog of paid orders in "
                f"{_seconds(confirmed)} and had handled every event in "
                f"{_seconds(stats['caught_up_seconds'])}"
            )
        return stats

    def cpu_per_confirmed_order(self, confirmed_before: int) -> dict:
        """CPU milliseconds per order confirmed from the first order stored to the drained
        backlog, per part and summed over every part (NOT_SUMMED aside)."""
        cpu_before, clock_before = self.cpu_at_start
        cpu_after, clock_after = self.cpu_snapshot(), time.monotonic()
        confirmed = self.status_counts().get("confirmed", 0) - confirmed_before
        if confirmed <= 0:
            return {"confirmed": 0}
        # locust has exited: its CPU since the first order is its whole life's minus what it
        # had used by then (its start-up).
        cpu_after["locust"] = self.locust_cpu_seconds
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

    def scenario_orders(self) -> None:
        self.results["scenarios"]["orders"] = self._orders("orders")

    def scenario_history(self) -> None:
        """The orders scenario again after seeding ``--history`` earlier orders directly in the
        stores: the CPU per confirmed order must stay within 15 % of the empty-history one."""
        seeded = self.seed_history(self.args.history)
        stats = self._orders("history")
        stats["history_seeded"] = seeded
        self.results["scenarios"]["history"] = stats

    def scenario_latency(self) -> None:
        orders = self.results["scenarios"].get("orders")
        if orders is None:
            raise BenchError("the latency scenario needs the orders scenario's throughput")
        # Half the maximum throughput: of the rate the system sustains end to end (placed and
        # confirmed), not of the placement burst, which leaves the worker's work for later.
        target = orders.get("sustained_orders_per_second", orders["orders_per_second"]) / 2
        if target <= 0:
            raise BenchError("the orders scenario placed no order: nothing to pace at half of")
        per_user = target / self.args.users
        out = VAR / "latency-orders.json"
        out.unlink(missing_ok=True)
        stats = self.run_locust(
            "latency",
            "OrderUser",
            self.url("order_service"),
            env={"BENCH_ORDER_RATE_PER_USER": f"{per_user:.6f}", "BENCH_ORDERS_OUT": str(out)},
            profile=ORDER_PARTS,
        )
        placed = json.loads(out.read_text()) if out.exists() else []
        stats["target_orders_per_second"] = target
        stats["orders_placed"] = len(placed)
        ids = [order["id"] for order in placed]
        drained = self.wait_until_no_paid(ids, timeout=self.args.drain_timeout)
        stats["drain_seconds"] = drained
        stats["final_statuses"] = dict(self.status_counts(ids)) if ids else {}
        stats["confirmation"] = self.confirmation_latency(placed)
        stats["segments"] = self.latency_segments(ids)
        self.results["scenarios"]["latency"] = stats
        conf = stats["confirmation"]
        say(
            f"latency: {conf['count']} orders confirmed; payment->confirmed p50 {conf['p50_ms']} ms,"
            f" p95 {conf['p95_ms']} ms, p99 {conf['p99_ms']} ms"
        )

    def confirmation_latency(self, placed: list[dict]) -> dict:
        base = self.url("order_service")

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
        RESULTS.joinpath("latency-confirmation-ms.json").write_text(json.dumps(latencies))
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

    def latency_segments(self, order_ids: list[str]) -> dict:
        """Where payment → confirmed goes, per order, from the two databases' timestamps:
        outbox row written → published (``sent_at``) → taken by the worker (event log
        ``received_at``) → handled (``completed_at``)."""
        if not order_ids:
            return {}
        outbox = self.query(
            "orders",
            "SELECT id::text, created_at, sent_at FROM orders_outboxevent "
            "WHERE event_type = 'order.paid' AND order_id::text = ANY(%s)",
            (order_ids,),
        )
        events = {
            row[0]: row[1:]
            for row in self.query(
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

    def worker_run(self, workers: int) -> dict:
        """Paid orders queued with no worker running, then drained by ``workers`` processes."""
        assert self.system is not None
        system = self.system
        self.wait_until_caught_up(timeout=self.args.drain_timeout)
        for name in [name for name in system.processes if "worker" in name]:
            system.processes.pop(name).stop()
        count = self.args.worker_orders
        buyers = self.data["buyers"]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(
                pool.map(lambda i: self.place_paid_order(buyers[i % len(buyers)]), range(count))
            )
        say(
            f"worker x{workers}: {count} paid orders queued in {time.monotonic() - started:.1f}s;"
            " starting the worker(s)"
        )
        counts = self.status_counts(ids)
        if counts.get("paid", 0) != count:
            raise BenchError(f"orders were handled with no worker running: {dict(counts)}")
        since = self.query("integration", "SELECT now()")[0][0]
        concurrency = system.settings.worker_concurrency
        system.settings.worker_concurrency = 1
        try:
            for number in range(workers):
                system.start_worker(name=f"bench-worker-{workers}-{number + 1}")
        finally:
            system.settings.worker_concurrency = concurrency
        launched = time.monotonic()
        recorders = self.start_profiles(
            f"worker{workers}", ("worker", "order_service", "product_service", "secantusdb"), 600
        )
        drained = self.wait_until_no_paid(ids, timeout=self.args.drain_timeout)
        wall = time.monotonic() - launched
        profiles = self.finish_profiles(recorders, early=True)
        rows = self.query(
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
            "final_statuses": dict(self.status_counts(ids)),
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

    def scenario_worker(self) -> None:
        assert self.system is not None
        runs = [self.worker_run(1), self.worker_run(2)]
        for name in [name for name in self.system.processes if "worker" in name]:
            self.system.processes.pop(name).stop()
        self.system.start_worker()
        self.results["scenarios"]["worker"] = {"runs": runs}

    def verify_cache_off(self, service: str) -> bool:
        """Six authenticated requests to ``service`` in a row: with the cache off, user_service
        answers six ``/internal/verify`` calls (with it on, at most one per gunicorn worker)."""
        token = self.data["buyers"][0]["token"]
        path = (
            "/orders"
            if service == "order_service"
            else f"/product/{self.data['order_products'][0]}"
        )
        before = self.log_counts().get("verify", 0)
        for _ in range(6):
            requests.get(
                f"{self.url(service)}{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        time.sleep(0.5)
        return self.log_counts().get("verify", 0) - before >= 6

    def scenario_nocache(self) -> None:
        say("restarting product_service and order_service with VERIFY_CACHE_SECONDS=0")
        reads = {}
        for service in ("product_service", "order_service"):
            self.restart_service(service, {"VERIFY_CACHE_SECONDS": "0"})
            reads[service] = self.verify_cache_off(service)
            if not reads[service]:
                # The service ignores the variable: set it through the settings shim.
                self.restart_service(
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
            stats = self._orders("nocache")
            stats["reads_env"] = reads
            self.results["scenarios"]["nocache"] = stats
        finally:
            say("restarting product_service and order_service with the verify cache on")
            for service in ("product_service", "order_service"):
                self.restart_service(service, {})

    # --- the run ---

    def run(self) -> None:
        scenarios = self.args.only or list(SCENARIOS)
        for needs_orders in ("history", "latency"):
            if needs_orders in scenarios and "orders" not in scenarios:
                scenarios.insert(scenarios.index(needs_orders), "orders")
        self.results["started"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.results["load_at_start"] = load_average()
        self.results["machine"] = machine_description(self.postgres_url)
        self.results["machine"]["mongodb"] = (
            "MongoDB at BENCH_MONGODB_URI"
            if os.environ.get("BENCH_MONGODB_URI")
            else "SecantusDB (the run's own, MongoDB wire protocol)"
        )
        needs_system = scenarios != ["ceiling"]
        self.start(system=needs_system)
        if needs_system:
            self.seed()
        for scenario in SCENARIOS:
            if scenario in scenarios:
                getattr(self, f"scenario_{scenario}")()
                self.save_raw()
        self.results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.results["load_at_end"] = load_average()

    def save_raw(self) -> None:
        RESULTS.joinpath("results.json").write_text(json.dumps(self.results, indent=2, default=str))


# --- the seeded history (scenario ``history``) ----------------------------------------------


def _history_uuid(kind: str, number: int):
    """The id HISTORY_SQL gives row ``number`` of ``kind`` (md5 of the same text)."""
    import hashlib
    import uuid

    return uuid.UUID(hashlib.md5(f"bench-history-{kind}-{number}".encode()).hexdigest())


# --- parsing and arithmetic ---------------------------------------------------------------


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


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def parse_locust(prefix: Path) -> dict:
    rows = list(csv.DictReader(io.StringIO(Path(f"{prefix}_stats.csv").read_text())))
    by_name = {}
    for row in rows:
        entry = {
            "requests": int(_number(row["Request Count"])),
            "failures": int(_number(row["Failure Count"])),
            "rps": _number(row["Requests/s"]),
            "avg": round(_number(row["Average Response Time"]), 1),
            "p50": _number(row["50%"]),
            "p95": _number(row["95%"]),
            "p99": _number(row["99%"]),
            "max": _number(row["Max Response Time"]),
        }
        by_name["Aggregated" if row["Name"] == "Aggregated" else f"{row['Name']}"] = entry
    total = by_name.pop("Aggregated")
    failures = []
    failures_path = Path(f"{prefix}_failures.csv")
    if failures_path.exists():
        failures = [
            {"name": row["Name"], "error": row["Error"][:300], "count": int(row["Occurrences"])}
            for row in csv.DictReader(io.StringIO(failures_path.read_text()))
        ]
    elapsed = total["requests"] / total["rps"] if total["rps"] else 0.0
    return {"total": total, "by_name": by_name, "failures": failures, "elapsed": elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./manage_all.sh bench", description=__doc__)
    parser.add_argument("--users", type=int, default=32, help="locust users (default 32)")
    parser.add_argument("--spawn-rate", type=float, help="users started per second (default: all)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario (20)")
    parser.add_argument(
        "--web-concurrency", type=int, default=2, help="gunicorn workers per service (2)"
    )
    parser.add_argument(
        "--worker-concurrency", type=int, default=4, help="the usual worker's (4, as `up` runs it)"
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

    global RESULTS
    if args.output:
        # A report elsewhere keeps its raw data beside it; bench/results/ stays as it is.
        RESULTS = args.output.resolve().parent / f"{args.output.stem}-results"
    RESULTS.mkdir(parents=True, exist_ok=True)
    for old in RESULTS.iterdir():
        if old.is_file():
            old.unlink()
    # Ctrl-C and SIGTERM both stop the run and everything it started (SIGINT is set
    # explicitly: a shell starting the run in the background would have it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    bench = Bench(args)
    bench.results["command"] = command
    bench.results["raw_dir"] = str(
        RESULTS.relative_to(ROOT) if RESULTS.is_relative_to(ROOT) else RESULTS
    )
    bench.results["options"] = {key: str(value) for key, value in vars(args).items()}
    complete = False
    try:
        bench.run()
        complete = True
    except KeyboardInterrupt:
        say("interrupted; stopping everything")
    except Exception as exc:
        if not isinstance(exc, (BenchError, infra.InfrastructureError)):
            import traceback

            traceback.print_exc()
        say(f"failed: {exc}")
        if bench.system is not None:
            for name, process in bench.system.processes.items():
                print(f"--- {name} log tail ---\n{process.log_tail(15)}")
    finally:
        bench.stop()
        bench.save_raw()
    from report import write_report

    output = args.output or (BENCH / "RESULTS.md" if complete else RESULTS / "PARTIAL-RESULTS.md")
    write_report(bench.results, output, complete=complete)
    from charts import add_to_report

    add_to_report(output, RESULTS)  # the PNG charts, drawn from the raw results
    say(f"report written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())

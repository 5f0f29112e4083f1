"""The harness: the system under test, where its CPU went, and the locust runner.

:class:`Harness` starts the system (through the launcher, in real mode on free ports) and the
ceiling, restarts a service with other settings, and stops everything it started. It accounts
for CPU per part (each process tree by psutil, the PostgreSQL backends of the bench databases
sampled every 0.5 s, RabbitMQ and PostgreSQL as whole servers, the machine), samples what the
bench databases' sessions wait for, reads the worker's progress from the databases, records
py-spy profiles and runs one locust scenario with all of that measured over its window.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import os
import platform
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "scripts"))

from ecommerce_common import infra  # noqa: E402
from ecommerce_common.settings import write_rates_all  # noqa: E402
from launcher.config import BIN, Settings, free_ports  # noqa: E402
from launcher.processes import System  # noqa: E402

VAR = BENCH / "var"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
# BENCH_NAME keeps concurrent runs on one machine apart: their databases and vhost.
NAME = os.environ.get("BENCH_NAME", "ecommerce_bench")
VHOST = NAME
DATABASE_PREFIX = f"{NAME}_"
# The parts counted in the machine CPU per confirmed order and per request: every process an
# order goes through, the load tool included (the ceiling's idle gunicorn, the whole-server
# PostgreSQL figure and the machine-wide one are shown but not summed).
NOT_SUMMED = ("ceiling", "postgresql (whole server)", "machine (all processes)")
# Whatever the benchmark needs the services to allow: many registrations from one address,
# access tokens that outlive the whole run.
SYSTEM_ENV = {
    "THROTTLE_REGISTER_RATE": "1000000/hour",
    "THROTTLE_TOKEN_REFRESH_RATE": "1000000/minute",
    "JWT_ACCESS_TOKEN_MINUTES": "120",
    "LOGIN_FAILURE_LIMIT_PER_IP": "1000000",
    # The write rate limits and the open-orders cap (every buyer orders from one address).
    **write_rates_all("1000000/minute"),
    "ORDER_MAX_OPEN_PER_USER": "1000000",
}


class BenchError(RuntimeError):
    """The benchmark could not run as asked."""


def say(message: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)


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


class CpuMeter:
    """CPU seconds per part, from each process's own accounting (psutil).

    A part is the process trees of some pids; besides the parts, the PostgreSQL backends
    serving the bench databases (sampled every 0.5 s by :meth:`track_pg_backends`, so
    short-lived ones count), PostgreSQL and RabbitMQ as whole servers, and the machine.
    """

    def __init__(self) -> None:
        # CPU seconds last seen per PostgreSQL backend serving a bench database (pid → seconds):
        # a backend that exits keeps its last figure, so the sum only ever grows.
        self._pg_backends: dict[int, float] = {}
        self._pg_lock = threading.Lock()
        self._pg_stop = threading.Event()
        self._server_processes: dict[str, dict[int, float]] = {}

    def snapshot(self, parts: dict[str, list[int]]) -> dict[str, float]:
        """CPU seconds used so far by each part's process trees and by the shared servers."""
        import psutil

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
                if DATABASE_PREFIX not in " ".join(proc.info["cmdline"] or ()):
                    continue
                times = proc.info["cpu_times"]
                self._pg_backends[proc.pid] = times.user + times.system
            return sum(self._pg_backends.values())

    def track_pg_backends(self) -> None:
        """Every 0.5 s, so a short-lived backend's CPU is seen before it exits."""
        while not self._pg_stop.wait(0.5):
            with contextlib.suppress(Exception):
                self.pg_backends_cpu()

    def stop(self) -> None:
        self._pg_stop.set()


class Harness:
    """The system under test and the ceiling, measured: started, restarted, stopped, loaded."""

    def __init__(self, args: argparse.Namespace, results_dir: Path) -> None:
        self.args = args
        # Where the raw results go (bench/results/, or beside --output's report).
        self.results_dir = results_dir
        self.postgres_url = os.environ.get(
            "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"
        )
        self.system: System | None = None
        self.ceiling: infra.Process | None = None
        self.ceiling_port = 0
        self.locust: subprocess.Popen | None = None
        self.http = requests.Session()
        self.cpu = CpuMeter()
        self.locust_cpu_seconds = 0.0
        # CPU of every part and the clock when run_locust's ``started()`` first held.
        self.cpu_at_start: tuple[dict[str, float], float] | None = None

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
            **free_ports(),
            postgres_url=self.postgres_url,
            database_prefix=DATABASE_PREFIX,
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
        threading.Thread(target=self.cpu.track_pg_backends, daemon=True).start()
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
        self.cpu.stop()
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
                output = self.results_dir / f"profile-{scenario}-{part}-{number}.txt"
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
        return self.cpu.snapshot(parts)

    # --- PostgreSQL under load: what the bench databases' sessions wait for, work done ---

    def pg_stats(self) -> dict[str, dict[str, int]]:
        """Cumulative transactions and rows per bench database (pg_stat_database)."""
        if self.system is None:
            return {}
        rows = self.query(
            "orders",
            "SELECT datname, xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched "
            "FROM pg_stat_database WHERE starts_with(datname, %s)",
            (DATABASE_PREFIX,),
        )
        keys = ("commits", "rollbacks", "inserted", "updated", "fetched")
        return {
            row[0].removeprefix(DATABASE_PREFIX): dict(zip(keys, row[1:], strict=True))
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
                        "WHERE starts_with(datname, %s) AND state = 'active' "
                        "AND pid <> pg_backend_pid() GROUP BY 1, 2, 3",
                        (DATABASE_PREFIX,),
                    ).fetchall():
                        into[f"{db.removeprefix(DATABASE_PREFIX)} {kind}:{event}"] += count
                    into["samples"] += 1
        except Exception as exc:  # diagnostics only; never fail the run for them
            into[f"sampler error: {exc.__class__.__name__}"] += 1

    # --- databases (read only: progress of the worker) ---

    def query(self, database: str, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        name = f"{DATABASE_PREFIX}{database}"
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
        prefix = self.results_dir / name
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
        with open(self.results_dir / f"{name}.locust.log", "w") as log:
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
            tail = (self.results_dir / f"{name}.locust.log").read_text()[-2000:]
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

"""Process control: the system's processes started, recorded and stopped, and the stores prepared.

:class:`System` brings the system up (stores, migrations, the admin, then the four services
under gunicorn, the worker and the scheduler, waiting until every ``/ready`` answers) and
records the process ids in the var dir, which :func:`recorded_processes` reads back for
``down`` and ``status``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ecommerce_common import infra

from .config import (
    BIN,
    LOCAL_REDIS_PORT,
    RELATIONAL,
    ROOT,
    WEB_SERVICES,
    LaunchError,
    Settings,
    database_url,
    service_environment,
)


class System:
    """One system's processes: started here, recorded in its run dir, stopped here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: dict[str, infra.Process] = {}
        self.admin: dict[str, str] = {}

    def environment(self, service: str) -> dict[str, str]:
        return service_environment(self.settings, service)

    def database_url(self, service: str) -> str:
        return database_url(self.settings, service)

    def say(self, message: str) -> None:
        if not self.settings.quiet:
            print(f"==> {message}", flush=True)

    def _manage(self, service: str, *args: str) -> None:
        result = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT / service,
            env={**os.environ, **self.environment(service)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise LaunchError(
                f"{service}: manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}"
            )

    def create_postgres_databases(self) -> None:
        import psycopg

        infra.ensure_postgres()
        with psycopg.connect(f"{self.settings.postgres_url}/postgres", autocommit=True) as conn:
            for name in RELATIONAL.values():
                database = f"{self.settings.database_prefix}{name}"
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if exists.fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{database}"')

    def drop_postgres_databases(self) -> None:
        """Remove this system's databases (tests start from nothing)."""
        import psycopg

        with psycopg.connect(f"{self.settings.postgres_url}/postgres", autocommit=True) as conn:
            for name in RELATIONAL.values():
                conn.execute(
                    f'DROP DATABASE IF EXISTS "{self.settings.database_prefix}{name}" WITH (FORCE)'
                )

    def _start(
        self, name: str, command: list[str], *, cwd: Path, env: dict[str, str]
    ) -> infra.Process:
        process = infra.Process(
            name, command, env=env, cwd=cwd, log_dir=self.settings.log_dir
        ).start()
        self.processes[name] = process
        (self.settings.run_dir / f"{name}.pid").write_text(str(process.pid))
        return process

    def make_folders(self) -> None:
        settings = self.settings
        for folder in (
            settings.var_dir,
            settings.run_dir,
            settings.log_dir,
            settings.var_dir / "broker",
        ):
            folder.mkdir(parents=True, exist_ok=True)

    def start_secantus(self, *, record: bool = True) -> infra.Process:
        """SecantusDB on the settings' port with its data in the var dir; sets ``mongodb_uri``.

        ``record=False``: not one of the system's processes (a manage command's own, for its
        duration), so ``down`` and ``up`` never take it for a running system.
        """
        settings = self.settings
        port = settings.secantus_port or infra.free_port()
        storage = settings.var_dir / "mongodb"
        storage.mkdir(parents=True, exist_ok=True)
        command = infra.secantus_command(port, str(storage))
        if record:
            process = self._start("secantusdb", command, cwd=settings.var_dir, env={})
        else:
            process = infra.Process(
                "secantusdb", command, cwd=settings.var_dir, log_dir=settings.log_dir
            ).start()
        if not infra.wait_for_port("127.0.0.1", port, timeout=30):
            process.stop()
            raise LaunchError("SecantusDB did not start; see " + str(settings.log_dir))
        settings.mongodb_uri = infra.secantus_uri(port)
        return process

    def prepare(self) -> None:
        """Stores, migrations and the admin user; nothing is started but SecantusDB."""
        settings = self.settings
        self.make_folders()
        if settings.mode == "real":
            self.say(
                f"using PostgreSQL at {settings.postgres_url} and RabbitMQ at {settings.broker_url}"
            )
            self.create_postgres_databases()
            if settings.broker_url and settings.broker_url.startswith("amqp"):
                infra.ensure_rabbitmq()

        else:
            self.say(f"using embedded stores in {settings.var_dir} (SQLite, filesystem broker)")
        if settings.redis_url:
            self.say(f"using Redis at {settings.redis_url} for the shared cache")
        elif settings.mode == "real":
            self.say(
                f"no Redis at 127.0.0.1:{LOCAL_REDIS_PORT} and no REDIS_URL: running without it"
                " (every cache per process)"
            )
        if not settings.mongodb_uri:
            self.start_secantus()
            self.say(
                f"using SecantusDB (MongoDB wire protocol) at {settings.mongodb_uri}, "
                f"data in {settings.var_dir / 'mongodb'}"
            )
        else:
            self.say(f"using MongoDB at {settings.mongodb_uri}")
        for service in WEB_SERVICES:
            self.say(f"{service}: migrate")
            self._manage(service, "migrate", "--noinput")
            self._manage(service, "ensure_admin")

    def start(self) -> None:
        """Start every web service, the worker and the scheduler; wait until all are ready."""
        for service in WEB_SERVICES:
            self.start_service(service, wait=False)
        env = self.environment("integration_service")
        self.start_worker(env=env)
        self._start(
            "scheduler",
            [
                str(BIN / "celery"),
                "-A",
                "integration_service",
                "beat",
                "--schedule",
                str(self.settings.run_dir / "celerybeat-schedule"),
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT / "integration_service",
            env=env,
        )
        for service in WEB_SERVICES:
            infra.wait_for_http(
                f"{self.settings.url(service)}/ready",
                timeout=90,
                process=self.processes[service].popen,
            )
        self.save_state()

    def start_service(
        self, service: str, *, wait: bool = True, env: dict[str, str] | None = None
    ) -> infra.Process:
        """Start one web service under gunicorn (again, after a stop; ``env`` replaces its
        environment, e.g. to reach a store through a test's proxy)."""
        config = str(ROOT / "deploy" / "gunicorn.conf.py")
        process = self._start(
            service,
            [str(BIN / "gunicorn"), "-c", config, f"{service}.wsgi:application"],
            cwd=ROOT / service,
            env={**(env or self.environment(service)), **self._metrics_files(service)},
        )
        if wait:
            infra.wait_for_http(
                f"{self.settings.url(service)}/ready", timeout=90, process=process.popen
            )
        return process

    def _metrics_files(self, name: str) -> dict[str, str]:
        """The folder of one process tree's metric files (ecommerce_common.metrics)."""
        return {"PROMETHEUS_MULTIPROC_DIR": str(self.settings.run_dir / f"prometheus-{name}")}

    def start_worker(
        self, *, name: str = "worker", env: dict[str, str] | None = None
    ) -> infra.Process:
        env = {**(env or self.environment("integration_service")), **self._metrics_files(name)}
        if name != "worker":
            # Only the main worker serves metrics on the known port; extra ones (tests, bench)
            # would all want it.
            env["WORKER_METRICS_PORT"] = "0"
        return self._start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "integration_service",
                "worker",
                "-Q",
                "integration",
                "--prefetch-multiplier",
                "1",
                "--concurrency",
                str(self.settings.worker_concurrency),
                "--hostname",
                f"{name}-{os.getpid()}@%h",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT / "integration_service",
            env=env,
        )

    def save_state(self) -> None:
        state = {
            "mode": self.settings.mode,
            "ports": self.settings.ports,
            "mongodb_uri": self.settings.mongodb_uri,
            "processes": {name: p.pid for name, p in self.processes.items()},
        }
        (self.settings.run_dir / "state.json").write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.processes[name].stop()
            (self.settings.run_dir / f"{name}.pid").unlink(missing_ok=True)
        self.processes.clear()
        (self.settings.run_dir / "state.json").unlink(missing_ok=True)


def recorded_processes(settings: Settings) -> dict[str, int]:
    path = settings.run_dir / "state.json"
    if path.exists():
        return json.loads(path.read_text())["processes"]
    return {
        pid_file.stem: int(pid_file.read_text())
        for pid_file in settings.run_dir.glob("*.pid")
        if pid_file.read_text().strip().isdigit()
    }


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not reaped) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False

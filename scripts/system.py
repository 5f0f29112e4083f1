"""Start, stop and inspect the whole ecommerce-backend system on this machine.

One launcher serves both ``./manage_all.sh up|down|status|logs`` and the
cross-service tests, so the system the tests drive is the system a newcomer
runs. It chooses the stores (embedded: SQLite, SecantusDB, the filesystem
Celery transport; real: PostgreSQL, RabbitMQ and, if one answers on 6379 or
``REDIS_URL`` is set, Redis for the shared cache), migrates, creates the admin,
starts the four services under gunicorn, the worker and the scheduler,
records their process ids and waits until every ``/ready`` answers.

It is also the one source of the services' local configuration:
``./manage_all.sh SERVICE COMMAND`` (``runserver``, ``createsuperuser``, ``shell``...) runs
``manage.py`` through :func:`manage` with the stores, secrets and ports ``up`` gives that
service. The command line reads ``.env`` first (real environment > ``.env`` > defaults).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import environ

from ecommerce_common import infra

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEB_SERVICES = ("user_service", "product_service", "order_service", "integration_service")
DEFAULT_PORTS = {
    "user_service": 8001,
    "product_service": 8002,
    "order_service": 8003,
    "integration_service": 8004,
}
RELATIONAL = {
    "user_service": "users",
    "order_service": "orders",
    "integration_service": "integration",
}
DEMO_PRODUCTS = [
    ("Noise-cancelling headphones", "Over-ear, 30 h battery.", "199.00", "Electronics", 25),
    ("Mechanical keyboard", "Hot-swappable switches, USB-C.", "89.50", "Electronics", 40),
    ("Merino wool sweater", "Warm, breathable, machine washable.", "74.00", "Clothing", 30),
    ("The Pragmatic Programmer", "20th anniversary edition.", "39.99", "Books", 50),
    ("Cast-iron skillet", "Pre-seasoned 26 cm pan.", "34.90", "Home & Kitchen", 20),
    ("Trail running shoes", "Grippy outsole, 8 mm drop.", "120.00", "Sports", 15),
]


# Real mode uses the machine's Redis here, if one answers, for the shared cache.
LOCAL_REDIS_PORT = 6379


class LaunchError(RuntimeError):
    """The system could not be brought up as asked."""


@dataclass
class Settings:
    """Where the system keeps its state and how it reaches its stores."""

    var_dir: Path = ROOT / "var"
    mode: str = "embedded"  # or "real"
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    postgres_url: str = "postgres://postgres@127.0.0.1:5432"
    database_prefix: str = "ecommerce_"
    broker_url: str | None = None
    mongodb_uri: str | None = None
    # The shared cache (REDIS_URL); None: every cache per process.
    redis_url: str | None = None
    cache_key_prefix: str = "ecommerce"
    extra_env: dict[str, str] = field(default_factory=dict)
    # SecantusDB's port when no MONGODB_URI is given; None: a free one (tests).
    secantus_port: int | None = None
    web_concurrency: int = 2
    # The worker is I/O-bound (a paid event waits on two HTTP calls and the event log's commits;
    # ~0.1 core at 25 events/s in bench/RESULTS.md), so task processes bound it, not cores.
    worker_concurrency: int = 4
    # Where each part serves /metrics (never routed publicly); default: its port + 100, the
    # worker's the integration_service's + 101.
    metrics_ports: dict[str, int] = field(default_factory=dict)
    quiet: bool = False

    def __post_init__(self) -> None:
        if not self.metrics_ports:
            self.metrics_ports = {service: port + 100 for service, port in self.ports.items()}
            self.metrics_ports["worker"] = self.ports["integration_service"] + 101

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def read_env_file() -> Path | None:
    """Load ``.env`` (or the file ``ECOMMERCE_ENV_FILE`` names) into the environment.

    A variable already set in the real environment wins over the file, and the file over the
    launcher's defaults.
    """
    path = Path(os.environ.get("ECOMMERCE_ENV_FILE") or ROOT / ".env")
    if not path.is_file():
        return None
    environ.Env.read_env(str(path), overwrite=False)
    return path


def from_environment(*, real: bool | None = False, var_dir: Path | None = None) -> Settings:
    """Settings for ``up``: real servers when asked for or configured, embedded otherwise.

    ``real=None`` (manage commands): the stores the last ``up`` in this var dir used.
    """
    settings = Settings(var_dir=var_dir or Path(os.environ.get("ECOMMERCE_VAR_DIR", ROOT / "var")))
    settings.secantus_port = 27018
    if os.environ.get("ECOMMERCE_PORT_BASE"):
        base = int(os.environ["ECOMMERCE_PORT_BASE"])
        settings.ports = {service: base + i for i, service in enumerate(WEB_SERVICES, start=1)}
        settings.secantus_port = base + 5
        settings.cache_key_prefix = f"ecommerce-{base}"
        settings.metrics_ports = {}
        settings.__post_init__()
    mode_file = settings.var_dir / "mode"
    if real is None:
        real = mode_file.is_file() and mode_file.read_text().strip() == "real"
    settings.mongodb_uri = os.environ.get("MONGODB_URI") or None
    settings.broker_url = os.environ.get("CELERY_BROKER_URL") or None
    configured = any(os.environ.get(f"{name.upper()}_DATABASE_URL") for name in RELATIONAL)
    settings.redis_url = os.environ.get("REDIS_URL") or None
    if real or configured or settings.broker_url:
        settings.mode = "real"
        settings.broker_url = settings.broker_url or "amqp://guest:guest@127.0.0.1:5672//"
        if not settings.redis_url and infra.port_open("127.0.0.1", LOCAL_REDIS_PORT):
            settings.redis_url = f"redis://127.0.0.1:{LOCAL_REDIS_PORT}/0"
    return settings


class System:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: dict[str, infra.Process] = {}
        self.admin: dict[str, str] = {}

    # --- configuration ----------------------------------------------------------------------

    def _secrets(self) -> dict[str, str]:
        """Generated once per var dir and kept, so restarts keep sessions and logins."""
        path = self.settings.var_dir / "secrets.json"
        if path.exists():
            stored = json.loads(path.read_text())
        else:
            stored = {
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "INTERNAL_API_TOKENS": secrets.token_urlsafe(32),
                "ADMIN_PASSWORD": secrets.token_urlsafe(12),
                "DEMO_PASSWORD": secrets.token_urlsafe(12),
            }
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(stored, indent=2))
            path.chmod(0o600)
        for key in ("ADMIN_PASSWORD", "INTERNAL_API_TOKENS", "DJANGO_SECRET_KEY"):
            if os.environ.get(key):
                stored[key] = os.environ[key]
        return stored

    def database_url(self, service: str) -> str:
        name = RELATIONAL[service]
        configured = os.environ.get(f"{name.upper()}_DATABASE_URL")
        if configured:
            return configured
        if self.settings.mode == "real":
            return f"{self.settings.postgres_url}/{self.settings.database_prefix}{name}"
        return f"sqlite:///{self.settings.var_dir / f'{name}.sqlite3'}"

    def environment(self, service: str) -> dict[str, str]:
        stored = self._secrets()
        settings = self.settings
        env = {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": stored["DJANGO_SECRET_KEY"],
            "DJANGO_ALLOWED_HOSTS": "*",
            "INTERNAL_API_TOKENS": stored["INTERNAL_API_TOKENS"],
            "USER_SERVICE_URL": settings.url("user_service"),
            "PRODUCT_SERVICE_URL": settings.url("product_service"),
            "ORDER_SERVICE_URL": settings.url("order_service"),
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
            "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json"),
            "ADMIN_EMAIL": os.environ.get("ADMIN_EMAIL", "admin@example.com"),
            "ADMIN_PASSWORD": stored["ADMIN_PASSWORD"],
            "CELERY_BROKER_URL": settings.broker_url or "filesystem://",
            "CELERY_FS_BROKER_DIR": str(settings.var_dir / "broker"),
            "VAR_DIR": str(settings.var_dir / service),
            "WEB_CONCURRENCY": str(settings.web_concurrency),
            "HOST": "127.0.0.1",
            "PORT": str(settings.ports[service]),
            "METRICS_PORT": str(settings.metrics_ports[service]),
            "PYTHONUNBUFFERED": "1",
            # The local system is plain http on 127.0.0.1: a Secure cookie would never be sent back.
            "DJANGO_SECURE_COOKIES": "false",
        }
        if service in RELATIONAL:
            env["DATABASE_URL"] = self.database_url(service)
        if service == "order_service":
            # The local run takes no real money: the simulated gateway is allowed with debug off.
            env["PAYMENT_SIMULATOR_ALLOWED"] = "true"
        if service == "product_service":
            env["MONGODB_URI"] = settings.mongodb_uri or ""
        if settings.redis_url:
            env["REDIS_URL"] = settings.redis_url
            env["CACHE_KEY_PREFIX"] = settings.cache_key_prefix
        if service == "integration_service":
            env["WORKER_METRICS_PORT"] = str(settings.metrics_ports["worker"])
        env.update(settings.extra_env)
        return env

    # --- steps --------------------------------------------------------------------------------

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

    def _create_postgres_databases(self) -> None:
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
            self._create_postgres_databases()
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

    # --- demo data ----------------------------------------------------------------------------

    def load_demo_data(self) -> dict[str, str]:
        """A demo buyer and a small catalogue, over the public API; safe to run again."""
        import requests

        stored = self._secrets()
        users = self.settings.url("user_service")
        demo = {"email": "demo@example.com", "password": stored["DEMO_PASSWORD"]}
        requests.post(
            f"{users}/users/register",
            json={"firstName": "Demo", "lastName": "Buyer", **demo},
            timeout=10,
        )
        admin_login = requests.post(
            f"{users}/users/login",
            json={
                "email": self.environment("user_service")["ADMIN_EMAIL"],
                "password": stored["ADMIN_PASSWORD"],
            },
            timeout=10,
        )
        if admin_login.status_code != 200:
            raise LaunchError(
                f"admin login failed: {admin_login.status_code} {admin_login.text[:200]}"
            )
        token = admin_login.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        products = self.settings.url("product_service")
        me = requests.get(f"{users}/users/me", headers=headers, timeout=10).json()
        listed = requests.get(
            f"{products}/product/",
            params={"seller": me["id"], "tags": "demo", "pageSize": 100},
            timeout=10,
        ).json()
        have = {item["title"] for item in listed.get("results", [])}
        for title, description, price, category, quantity in DEMO_PRODUCTS:
            if title in have:
                continue
            response = requests.post(
                f"{products}/product/",
                headers=headers,
                json={
                    "title": title,
                    "description": description,
                    "price": float(price),
                    "category": category,
                    "quantity": quantity,
                    "imageUrl": f"https://picsum.photos/seed/{abs(hash(title)) % 1000}/400",
                    "tags": ["demo", category.lower()],
                },
                timeout=10,
            )
            if response.status_code != 201:
                raise LaunchError(
                    f"demo product failed: {response.status_code} {response.text[:200]}"
                )
        return demo


# --- command line -------------------------------------------------------------------------------


def _recorded(settings: Settings) -> dict[str, int]:
    path = settings.run_dir / "state.json"
    if path.exists():
        return json.loads(path.read_text())["processes"]
    return {
        pid_file.stem: int(pid_file.read_text())
        for pid_file in settings.run_dir.glob("*.pid")
        if pid_file.read_text().strip().isdigit()
    }


def _alive(pid: int) -> bool:
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


def down(settings: Settings) -> int:
    recorded = _recorded(settings)
    if not recorded:
        print("nothing is running (no recorded processes)")
        return 0
    for name, pid in reversed(list(recorded.items())):
        if _alive(pid):
            print(f"stopping {name} (pid {pid})")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in recorded.values()):
        time.sleep(0.2)
    for name, pid in recorded.items():
        if _alive(pid):
            print(f"killing {name} (pid {pid})")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    for pid_file in settings.run_dir.glob("*.pid"):
        pid_file.unlink()
    (settings.run_dir / "state.json").unlink(missing_ok=True)
    print("stopped")
    return 0


def status(settings: Settings) -> int:
    import urllib.request

    recorded = _recorded(settings)
    if not recorded:
        print("not running")
        return 1
    healthy = True
    for name, pid in recorded.items():
        state = "running" if _alive(pid) else "STOPPED"
        detail = ""
        if name in settings.ports and state == "running":
            try:
                with urllib.request.urlopen(f"{settings.url(name)}/ready", timeout=3):  # noqa: S310
                    detail = f"ready  {settings.url(name)}"
            except Exception as exc:
                detail = f"NOT READY ({exc.__class__.__name__})"
                healthy = False
        healthy = healthy and state == "running"
        print(f"{name:22} pid {pid:<8} {state:8} {detail}")
    return 0 if healthy else 1


def logs(settings: Settings, part: str | None, *, raw: bool = False) -> int:
    """Follow the logs: the last lines, then what is appended, as readable lines (the files
    stay JSON; ``raw`` shows them as they are)."""
    from ecommerce_common.logging import render_log_line

    files = sorted(settings.log_dir.glob(f"{part or '*'}.log"))
    if not files:
        print(f"no logs for {part or 'any part'} in {settings.log_dir}")
        return 1
    if raw:
        os.execvp("tail", ["tail", "-n", "50", "-F", *map(str, files)])  # noqa: S606, S607
    width = max(len(path.stem) for path in files)
    offsets = {path: max(0, path.stat().st_size - 64 * 1024) for path in files}
    first = True
    try:
        while True:
            for path in files:
                started_inside = first and offsets[path] > 0
                lines, offsets[path] = _read_new_lines(path, offsets[path])
                if started_inside:
                    lines = lines[1:]  # begun mid-file: the first line is a part of one
                shown = [text for line in lines if (text := render_log_line(line)) is not None]
                for text in shown[-50:] if first else shown:
                    print(f"{path.stem:<{width}} | {text}" if len(files) > 1 else text, flush=True)
            first = False
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


def _read_new_lines(path: Path, offset: int) -> tuple[list[str], int]:
    """The complete lines appended to ``path`` since ``offset``, and the offset after them
    (from the start again when the file was truncated)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return [], 0
    if size < offset:
        offset = 0
    if size == offset:
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        chunk = handle.read(size - offset)
    end = chunk.rfind(b"\n") + 1
    lines = chunk[:end].decode("utf-8", "replace").splitlines()
    return lines, offset + end


def flower(settings: Settings, *, port: int) -> int:
    """Run Flower against the system's broker (the integration worker's settings), on 127.0.0.1."""
    state = settings.run_dir / "state.json"
    if (
        settings.mode != "real"
        and state.exists()
        and json.loads(state.read_text()).get("mode") == "real"
    ):
        settings = from_environment(real=True, var_dir=settings.var_dir)  # as `up --real` runs
    system = System(settings)
    env = {**os.environ, **system.environment("integration_service")}
    if not env["CELERY_BROKER_URL"].startswith("amqp"):
        print(
            "note: the embedded filesystem broker carries no task events; "
            "run `./manage_all.sh up --real` to see the worker in Flower"
        )
    print(f"Flower on http://127.0.0.1:{port}/ (Ctrl-C stops it)", flush=True)
    os.chdir(ROOT / "integration_service")
    os.execve(  # noqa: S606 - our own virtualenv's celery
        str(BIN / "celery"),
        [
            "celery",
            "-A",
            "integration_service",
            "flower",
            f"--port={port}",
            "--address=127.0.0.1",
        ],
        env,
    )
    return 0


def manage(settings: Settings, service: str, args: list[str]) -> int:
    """``manage.py ARGS`` in one service with the stores, secrets and ports ``up`` gives it.

    Debug mode unless ``DJANGO_DEBUG`` says otherwise; ``runserver`` without an address serves
    on the service's port. product_service reaches the running system's SecantusDB, or starts
    one on the same port and data for the command's duration.
    """
    system = System(settings)
    system.make_folders()
    if settings.mode == "real":
        system._create_postgres_databases()
    own_secantus = None
    if service == "product_service" and not settings.mongodb_uri:
        state = settings.run_dir / "state.json"
        recorded = json.loads(state.read_text()).get("mongodb_uri") if state.exists() else None
        if recorded and _alive(_recorded(settings).get("secantusdb", 0)):
            settings.mongodb_uri = recorded
        elif settings.secantus_port and infra.port_open("127.0.0.1", settings.secantus_port):
            settings.mongodb_uri = infra.secantus_uri(settings.secantus_port)
        else:
            own_secantus = system.start_secantus(record=False)
    env = {
        **os.environ,
        **system.environment(service),
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "true"),
    }
    if args[:1] == ["runserver"] and all(arg.startswith("-") for arg in args[1:]):
        args = [*args, f"127.0.0.1:{settings.ports[service]}"]
    try:
        return subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args], cwd=ROOT / service, env=env, check=False
        ).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        if own_secantus is not None:
            own_secantus.stop()


def up(settings: Settings, *, detach: bool) -> int:
    if any(_alive(pid) for pid in _recorded(settings).values()):
        print("the system is already running; `./manage_all.sh status` shows it, `down` stops it")
        return 1
    system = System(settings)
    try:
        system.prepare()
        # What manage commands use while the system is down (from_environment(real=None)).
        (settings.var_dir / "mode").write_text(settings.mode)
        system.say("starting services, worker and scheduler")
        system.start()
        demo = system.load_demo_data()
    except BaseException:
        system.say(f"start failed; stopping what was started (logs in {settings.log_dir})")
        system.stop()
        raise
    stored = system._secrets()
    admin_email = system.environment("user_service")["ADMIN_EMAIL"]
    print("\nThe system is up.\n")
    for service in WEB_SERVICES:
        url = settings.url(service)
        print(f"  {service:20} {url}   docs {url}/api/docs   admin {url}/admin/")
    print(
        f"\n  admin login: {admin_email} / {stored['ADMIN_PASSWORD']} (every admin site, and the API)"
    )
    print(f"  demo buyer:  {demo['email']} / {demo['password']}")
    print(f"  logs: ./manage_all.sh logs    state and data: {settings.var_dir}")
    print(
        f"  metrics: http://127.0.0.1:{settings.metrics_ports['order_service']}/metrics (each "
        f"service's port + 100, the worker's {settings.metrics_ports['worker']})    "
        "Celery view: ./manage_all.sh flower\n"
    )
    if detach:
        print("Running in the background; `./manage_all.sh down` stops it.")
        return 0
    print("Press Ctrl-C to stop.")
    try:
        while all(p.alive() for p in system.processes.values()):
            time.sleep(1)
        dead = [name for name, p in system.processes.items() if not p.alive()]
        print(f"stopped unexpectedly: {', '.join(dead)}; shutting down")
        return_code = 1
    except KeyboardInterrupt:
        return_code = 0
    print("\nstopping")
    system.stop()
    return return_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage_all.sh", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start the whole system")
    up_parser.add_argument(
        "--real", action="store_true", help="use the local PostgreSQL and RabbitMQ"
    )
    up_parser.add_argument(
        "-d", "--detach", action="store_true", help="return once the system is up"
    )
    sub.add_parser("down", help="stop what up started")
    sub.add_parser("status", help="show each part")
    logs_parser = sub.add_parser("logs", help="follow the logs, as readable lines")
    logs_parser.add_argument("part", nargs="?")
    logs_parser.add_argument("--raw", action="store_true", help="the JSON lines as they are")
    flower_parser = sub.add_parser("flower", help="run Flower against the broker")
    flower_parser.add_argument("--port", type=int, default=5555)
    manage_parser = sub.add_parser("manage", help="manage.py in one service, as up runs it")
    manage_parser.add_argument("service", choices=WEB_SERVICES)
    manage_parser.add_argument("args", nargs=argparse.REMAINDER)
    read_env_file()
    args = parser.parse_args(argv)
    if args.command == "manage":
        try:
            return manage(from_environment(real=None), args.service, args.args)
        except (LaunchError, infra.InfrastructureError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    settings = from_environment(real=getattr(args, "real", False))
    if args.command == "up":
        try:
            return up(settings, detach=args.detach)
        except (LaunchError, infra.InfrastructureError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if args.command == "down":
        return down(settings)
    if args.command == "status":
        return status(settings)
    if args.command == "flower":
        return flower(settings, port=args.port)
    return logs(settings, args.part, raw=args.raw)


if __name__ == "__main__":
    if shutil.which("tail") is None:
        print("warning: `tail` not found; `logs` will not work", file=sys.stderr)
    sys.exit(main())

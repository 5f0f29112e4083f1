"""The system's configuration: settings, stores, secrets and each service's environment.

The one source of the services' local configuration: ``up``, ``./manage_all.sh SERVICE COMMAND``,
the cross-service tests and the benchmark all build a service's environment here. The command
line reads ``.env`` first (real environment > ``.env`` > defaults).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

import environ

from ecommerce_common import infra

ROOT = Path(__file__).resolve().parents[2]
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

# Real mode uses the machine's Redis here, if one answers, for the shared cache.
LOCAL_REDIS_PORT = 6379


def free_ports() -> dict[str, dict[str, int]]:
    """Distinct free ports for every service and every /metrics endpoint (tests, the bench):
    ``Settings(**free_ports(), ...)``."""
    metrics_parts = (*WEB_SERVICES, "worker")
    picked = infra.free_ports(len(WEB_SERVICES) + len(metrics_parts))
    split = len(WEB_SERVICES)
    return {
        "ports": dict(zip(WEB_SERVICES, picked[:split], strict=True)),
        "metrics_ports": dict(zip(metrics_parts, picked[split:], strict=True)),
    }


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
    # The worker is I/O-bound (a paid event waits on two HTTP calls and the event log's commits),
    # so task processes bound it, not cores. Here, where everything shares the machine, they
    # are also its share of the services' capacity while buyers place orders flat out: with 8
    # the backlog of a 20 s flat-out run took 4.7-7.0 s to drain, with 16 1.1 s, at the same CPU
    # per order and the same sustained rate (bench/FINDINGS.md). (The chart's pods run on their
    # own CPU limit and keep 8: worker.concurrency.)
    worker_concurrency: int = 16
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


def stored_secrets(settings: Settings) -> dict[str, str]:
    """Generated once per var dir and kept, so restarts keep sessions and logins."""
    path = settings.var_dir / "secrets.json"
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


def database_url(settings: Settings, service: str) -> str:
    name = RELATIONAL[service]
    configured = os.environ.get(f"{name.upper()}_DATABASE_URL")
    if configured:
        return configured
    if settings.mode == "real":
        return f"{settings.postgres_url}/{settings.database_prefix}{name}"
    return f"sqlite:///{settings.var_dir / f'{name}.sqlite3'}"


def service_environment(settings: Settings, service: str) -> dict[str, str]:
    """The environment ``up`` gives one service (integration_service's: also the worker's)."""
    stored = stored_secrets(settings)
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
        env["DATABASE_URL"] = database_url(settings, service)
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

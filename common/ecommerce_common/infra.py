"""Start and check the servers the tests and the local system run against.

PostgreSQL and RabbitMQ are started when installed but stopped, and a clear
error is raised when they are absent. SecantusDB (the MongoDB-wire server)
and the services themselves run as child processes.
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path


class InfrastructureError(RuntimeError):
    """A server the tests need is missing or would not start."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, *, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.2)
    return False


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that can be bound now.

    All are held open until every one is chosen: ports picked one by one, each released before
    the next, can come back twice (two services of one run were once given the same port).
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port_base(span: int = 6) -> int:
    """A multiple of 10 whose next ``span`` ports can all be bound now.

    Taken below Linux's ephemeral range (32768-60999), so no outgoing connection of another
    process can be holding one of them as its source port by the time a server binds it.
    """
    rng = random.SystemRandom()
    while True:
        base = rng.randrange(20000, 32000, 10)
        if all(_bindable(base + i) for i in range(span)):
            return base


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _run(command: list[str]) -> None:
    subprocess.run(
        command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120
    )


def ensure_postgres(host: str = "127.0.0.1", port: int = 5432) -> None:
    if port_open(host, port):
        return
    if shutil.which("pg_ctlcluster") and glob.glob("/etc/postgresql/*"):
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
        if wait_for_port(host, port, timeout=60):
            return
        raise InfrastructureError("PostgreSQL is installed but did not start on 5432.")
    raise InfrastructureError(
        f"PostgreSQL is not running on {host}:{port} and is not installed (need pg_ctlcluster)."
    )


def ensure_rabbitmq(host: str = "127.0.0.1", port: int = 5672) -> None:
    if port_open(host, port):
        return
    if shutil.which("rabbitmq-server"):
        _run(["rabbitmq-server", "-detached"])
        if wait_for_port(host, port, timeout=90):
            return
        raise InfrastructureError("RabbitMQ is installed but did not start on 5672.")
    raise InfrastructureError(f"RabbitMQ is not running on {host}:{port} and is not installed.")


def ensure_redis(host: str = "127.0.0.1", port: int = 6379) -> None:
    if port_open(host, port):
        return
    if shutil.which("redis-server"):
        _run(["redis-server", "--port", str(port), "--bind", host, "--daemonize", "yes"])
        if wait_for_port(host, port, timeout=30):
            return
        raise InfrastructureError(f"Redis is installed but did not start on {port}.")
    raise InfrastructureError(f"Redis is not running on {host}:{port} and is not installed.")


def redis_url_for_tests() -> str:
    """The Redis database the tests use (``TEST_REDIS_URL``), apart from real mode's db 0."""
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def wait_for_http(
    url: str, *, timeout: float = 60.0, process: subprocess.Popen | None = None
) -> None:
    """Wait until ``url`` answers 200; fail early if ``process`` dies."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise InfrastructureError(
                f"process exited with {process.returncode} before {url} was up"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.3)
    raise InfrastructureError(f"{url} not ready after {timeout}s: {last_error}")


class Process:
    """A child process with its output in a log file, stopped as a whole process group."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        log_dir: str | Path | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = {**os.environ, **(env or {})}
        self.cwd = str(cwd) if cwd else None
        log_dir = Path(log_dir or tempfile.mkdtemp(prefix="ecommerce-logs-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.popen = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            os.killpg(self.pid, signum)

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def secantus_command(port: int, storage_path: str) -> list[str]:
    executable = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    return [executable, "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage_path]


def secantus_uri(port: int) -> str:
    """The URI for a SecantusDB started here.

    ``retryWrites=false``: SecantusDB keeps every retryable write's session record and scans
    the whole registry on each write, so with pymongo's default every write costs more than the
    one before (0.7 ms → 4.5 ms per update after 8,000 writes; flat at 0.6 ms without). Nothing
    here relies on retryable writes (every stock step is idempotent per order id); a production
    ``MONGODB_URI`` keeps the driver's default.
    """
    return f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"


def start_secantus(
    *, port: int | None = None, storage_path: str | None = None, log_dir: str | None = None
) -> tuple[Process, str]:
    """Start a SecantusDB server; return it and its ``mongodb://`` URI."""
    port = port or free_port()
    storage_path = storage_path or tempfile.mkdtemp(prefix="secantus-")
    process = Process("secantusdb", secantus_command(port, storage_path), log_dir=log_dir).start()
    if not wait_for_port("127.0.0.1", port, timeout=30):
        process.stop()
        raise InfrastructureError(f"SecantusDB did not start:\n{process.log_tail()}")
    return process, secantus_uri(port)


def rabbitmq_vhost(name: str, *, base_url: str = "amqp://guest:guest@127.0.0.1:5672") -> str:
    """Create (empty) a RabbitMQ virtual host for one test suite; return its broker URL.

    Suites that run at the same time then never see each other's queues.
    """
    ensure_rabbitmq()
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise InfrastructureError("rabbitmqctl is needed to create a test vhost.")
    _run([ctl, "delete_vhost", name])
    subprocess.run([ctl, "add_vhost", name], check=True, capture_output=True, timeout=60)
    subprocess.run(
        [ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return f"{base_url.rstrip('/')}/{name}"

"""The command line: ``up``, ``down``, ``status``, ``logs``, ``flower`` and ``manage``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ecommerce_common import infra

from .config import (
    BIN,
    ROOT,
    WEB_SERVICES,
    LaunchError,
    Settings,
    from_environment,
    read_env_file,
    stored_secrets,
)
from .demo import load_demo_data
from .processes import System, alive, recorded_processes


def down(settings: Settings) -> int:
    recorded = recorded_processes(settings)
    if not recorded:
        print("nothing is running (no recorded processes)")
        return 0
    for name, pid in reversed(list(recorded.items())):
        if alive(pid):
            print(f"stopping {name} (pid {pid})")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(pid) for pid in recorded.values()):
        time.sleep(0.2)
    for name, pid in recorded.items():
        if alive(pid):
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

    recorded = recorded_processes(settings)
    if not recorded:
        print("not running")
        return 1
    healthy = True
    for name, pid in recorded.items():
        state = "running" if alive(pid) else "STOPPED"
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
        system.create_postgres_databases()
    own_secantus = None
    if service == "product_service" and not settings.mongodb_uri:
        state = settings.run_dir / "state.json"
        recorded = json.loads(state.read_text()).get("mongodb_uri") if state.exists() else None
        if recorded and alive(recorded_processes(settings).get("secantusdb", 0)):
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
    if any(alive(pid) for pid in recorded_processes(settings).values()):
        print("the system is already running; `./manage_all.sh status` shows it, `down` stops it")
        return 1
    system = System(settings)
    try:
        system.prepare()
        # What manage commands use while the system is down (from_environment(real=None)).
        (settings.var_dir / "mode").write_text(settings.mode)
        system.say("starting services, worker and scheduler")
        system.start()
        demo = load_demo_data(system)
    except BaseException:
        system.say(f"start failed; stopping what was started (logs in {settings.log_dir})")
        system.stop()
        raise
    stored = stored_secrets(settings)
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

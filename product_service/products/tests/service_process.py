"""product_service as a real gunicorn process on a test database of its own, for the tests
that need several worker processes (concurrency, the shared cache)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.database import Database

from ecommerce_common.infra import Process, free_port, wait_for_http

SERVICE_DIR = Path(__file__).resolve().parents[2]
GUNICORN_CONF = SERVICE_DIR.parent / "deploy" / "gunicorn.conf.py"


@dataclass
class RunningService:
    base_url: str
    database: Database
    process: Process


@contextlib.contextmanager
def running_product_service(
    *, name: str, internal_token: str, verify_url: str, env: dict[str, str] | None = None
) -> Iterator[RunningService]:
    """Migrate a fresh database, start gunicorn (2 workers unless ``env`` says otherwise),
    wait for ``/ready``; stop it and drop the database afterwards."""
    uri = os.environ["MONGODB_URI"]
    db_name = f"{name}_{uuid.uuid4().hex[:12]}"
    port = free_port()
    settings = {
        "MONGODB_URI": uri,
        "MONGODB_DB_NAME": db_name,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": f"{name}-test-secret-key-0123456789-abcdefghij",
        "DJANGO_ALLOWED_HOSTS": "*",
        "INTERNAL_API_TOKENS": internal_token,
        "USER_SERVICE_URL": verify_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=SERVICE_DIR,
        env={**os.environ, **settings},
        check=True,
        timeout=120,
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = Process(
        "product_service",
        [gunicorn, "-c", str(GUNICORN_CONF), "product_service.wsgi:application"],
        env=settings,
        cwd=SERVICE_DIR,
    ).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base_url}/ready", timeout=60, process=process.popen)
        yield RunningService(base_url, MongoClient(uri)[db_name], process)
    finally:
        process.stop()
        MongoClient(uri).drop_database(db_name)

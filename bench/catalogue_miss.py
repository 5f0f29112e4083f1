"""CPU per uncached catalogue read: product_service (gunicorn, as deployed) plus SecantusDB.

    .venv/bin/python bench/catalogue_miss.py [--requests 400] [--products 420]

Starts its own SecantusDB and product_service (real mode: ``DJANGO_DEBUG=false``, the
deployed gunicorn config, ``CATALOGUE_CACHE_SECONDS=0`` so every read takes the miss path)
on free ports, seeds a catalogue like the bench's (7 categories, tags, prices), then sends
sequential requests of each kind (a list with a category and a ``minPrice`` that differs every
time, as every shopper's filters do; a list page with an ordering; a detail; a quantity) and
reads the CPU time (user + system) those processes spent, from their own accounting (psutil).
The load tool's own CPU is not counted. Stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "common"))

from ecommerce_common.testing import infra  # noqa: E402

BIN = Path(sys.executable).parent
CATEGORIES = ["Electronics", "Clothing", "Books", "Home & Kitchen", "Beauty", "Sports", "Other"]

SEED = """
import random
from decimal import Decimal
from products.models import Product
random.seed(7)
categories = {categories!r}
Product.objects.all().delete()
Product.objects.bulk_create(
    Product(
        title=f"Product {{n}} " + random.choice(["lamp", "book", "shirt", "pan", "ball"]),
        description="A fine thing for every day.",
        price=Decimal(random.randint(100, 20000)) / 100,
        category=categories[n % len(categories)],
        quantity=random.randint(0, 500),
        image_url="https://img.example.com/p.png",
        tags=random.sample(["new", "sale", "eco", "gift", "premium", "basic"], 2),
        seller=str(n % 10),
    )
    for n in range({products})
)
print(",".join(str(p.pk) for p in Product.objects.all()))
"""


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def tree(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="per kind of request (400)")
    parser.add_argument("--products", type=int, default=420, help="catalogue products (420)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="catalogue-miss-"))
    secantus, uri = infra.start_secantus(storage_path=str(work / "store"), log_dir=str(work))
    port = infra.free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(16).hex(),
        "DJANGO_ALLOWED_HOSTS": "*",
        "INTERNAL_API_TOKENS": "bench-only-" + os.urandom(16).hex(),
        "USER_SERVICE_URL": "http://127.0.0.1:9",
        "MONGODB_URI": uri.replace("/?", "/catalogue_miss?"),
        "CATALOGUE_CACHE_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "2",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "VAR_DIR": str(work),
    }
    service_dir = ROOT / "product_service"
    gunicorn = None
    try:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=service_dir, env=env, check=True)
        seeded = subprocess.run(
            [*manage, "shell", "-c", SEED.format(categories=CATEGORIES, products=args.products)],
            cwd=service_dir,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        product_ids = seeded.stdout.strip().splitlines()[-1].split(",")
        config = str(ROOT / "deploy" / "gunicorn.conf.py")
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", config, "product_service.wsgi:application"],
            cwd=service_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "gunicorn.log", "w"),  # noqa: SIM115
        )
        base = f"http://127.0.0.1:{port}"
        infra.wait_for_http(f"{base}/ready", timeout=60, process=gunicorn)
        session = requests.Session()
        random.seed(11)

        def list_filtered() -> str:
            cents = Decimal(random.randint(1, 5000)) / 100
            category = quote(random.choice(CATEGORIES))
            return f"{base}/product/?category={category}&minPrice={cents}"

        def list_ordered() -> str:
            ordering = random.choice(("price", "-price", "-createdAt", "title"))
            return f"{base}/product/?ordering={ordering}&page={random.randint(1, 5)}"

        kinds = {
            "GET /product/?category=…&minPrice=…": list_filtered,
            "GET /product/?ordering=…&page=…": list_ordered,
            "GET /product/{id}": lambda: f"{base}/product/{random.choice(product_ids)}",
            "GET /product/{id}/quantity": (
                lambda: f"{base}/product/{random.choice(product_ids)}/quantity"
            ),
        }
        for make_url in kinds.values():  # warm up every worker and code path
            for _ in range(20):
                session.get(make_url(), timeout=30).raise_for_status()
        parts = {"product_service": tree(gunicorn.pid), "SecantusDB": tree(secantus.popen.pid)}
        print(f"{args.requests} sequential requests of each kind, {args.products} products")
        print(f"{'request':40} {'product_service':>16} {'SecantusDB':>12} {'total ms/req':>13}")
        for name, make_url in kinds.items():
            before = {part: cpu_seconds(processes) for part, processes in parts.items()}
            started = time.perf_counter()
            for _ in range(args.requests):
                response = session.get(make_url(), timeout=30)
                response.raise_for_status()
                assert "X-Cache" not in response.headers
            elapsed = time.perf_counter() - started
            spent = {
                part: (cpu_seconds(processes) - before[part]) * 1000 / args.requests
                for part, processes in parts.items()
            }
            print(
                f"{name:40} {spent['product_service']:>13.2f} ms {spent['SecantusDB']:>9.2f} ms"
                f" {sum(spent.values()):>10.2f} ms   ({args.requests / elapsed:.0f} req/s)"
            )
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        secantus.stop()


if __name__ == "__main__":
    main()

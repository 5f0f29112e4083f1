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
``manage.py`` through :func:`launcher.commands.manage` with the stores, secrets and ports ``up``
gives that service. The command line reads ``.env`` first (real environment > ``.env`` >
defaults). The launcher itself is the package ``launcher/`` beside this file.
"""

from __future__ import annotations

import shutil
import sys

from launcher.commands import main

if __name__ == "__main__":
    if shutil.which("tail") is None:
        print("warning: `tail` not found; `logs` will not work", file=sys.stderr)
    sys.exit(main())

"""Settings shim for the benchmark's "verify cache off" scenario.

``DJANGO_SETTINGS_MODULE=bench_nocache_settings`` with ``BENCH_SERVICE_SETTINGS`` naming
the service's own settings module (e.g. ``order_service.settings``): everything is the
service's, except ``VERIFY_CACHE_SECONDS`` which is set from the environment (0), so
the scenario works whether or not the service reads that variable itself.
"""

import importlib
import os

_settings = importlib.import_module(os.environ["BENCH_SERVICE_SETTINGS"])
globals().update({name: value for name, value in vars(_settings).items() if name.isupper()})
VERIFY_CACHE_SECONDS = int(os.environ.get("VERIFY_CACHE_SECONDS", "0"))

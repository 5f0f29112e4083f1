"""pytest plugin (``-p`` in pytest.ini): environment defaults for the unit tests.

Loaded before pytest-django reads the settings, which a conftest.py is not. Only fills in what
the test command leaves unset: the other services' URLs, which fixtures replace with stand-ins.
"""

import os

os.environ.setdefault("USER_SERVICE_URL", "http://127.0.0.1:9")
os.environ.setdefault("PRODUCT_SERVICE_URL", "http://127.0.0.1:9")
os.environ.setdefault("PAYMENT_SIMULATOR_ALLOWED", "true")

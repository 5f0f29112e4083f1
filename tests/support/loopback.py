"""HTTP sessions that connect from another loopback address (127.0.0.0/8 is all ours).

user_service throttles registration, refresh and login failures per client IP. Tests
that send many such requests (fuzzing, hostile input) connect from an address of their
own so they neither exhaust the budget the other cross-service tests share on 127.0.0.1
nor are throttled by it.
"""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source_address: str, **kwargs) -> None:
        self.source_address = source_address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.source_address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source_address: str) -> requests.Session:
    """A session whose connections come from ``source_address`` (e.g. ``127.0.0.23``).

    It keeps no cookies: login answers set ``userAuthToken``, and a remembered cookie
    would silently authenticate the calls meant to carry no credentials (or a revoked
    token would fail them).
    """
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = SourceAddressAdapter(source_address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

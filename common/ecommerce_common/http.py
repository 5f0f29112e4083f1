"""The HTTP client for service-to-service calls.

Every call has connect and read timeouts, carries the internal token and the
current request id, and is retried (with backoff) only where that is safe:
idempotent methods, or a call the caller marks ``idempotent=True`` because
the server deduplicates it (the stock endpoints are idempotent per order id).
Transport failures and 5xx answers raise ``ServiceCallError``; 4xx answers
are returned for the caller to interpret.

The environment's proxy and CA bundle settings (``HTTP_PROXY``, ``NO_PROXY``,
``REQUESTS_CA_BUNDLE``, ...) are read once, when the client is made: requests
would otherwise walk the whole environment on every call (a fifth of the
worker's CPU per event in the profile, bench/FINDINGS.md). No ``.netrc`` is read:
internal calls authenticate with the internal token.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ecommerce_common.internal_auth import HEADER as INTERNAL_HEADER
from ecommerce_common.request_id import HEADER as REQUEST_ID_HEADER
from ecommerce_common.request_id import get_request_id

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class ServiceCallError(Exception):
    """The other service could not be reached or failed (timeout, connection error, 5xx)."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def _session(retries: int, methods: frozenset[str]) -> requests.Session:
    retry: Retry | int = (
        0
        if retries == 0
        else Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.2,
            backoff_jitter=0.1,
            status_forcelist=(502, 503, 504),
            allowed_methods=methods,
            raise_on_status=False,
        )
    )
    session = requests.Session()
    # The environment is read once per client (ServiceClient), not on every call.
    session.trust_env = False
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceClient:
    """Calls one other service at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        *,
        internal_token: str | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.internal_token = internal_token
        self.timeout = (connect_timeout, read_timeout)
        self._safe = _session(retries, SAFE_METHODS)
        self._unsafe = _session(0, frozenset())
        self._idempotent = _session(retries, SAFE_METHODS | {"POST", "PATCH"})
        self._proxies = requests.utils.get_environ_proxies(self.base_url)
        self._verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self._headers = {**requests.utils.default_headers(), "Accept": "application/json"}
        if internal_token:
            self._headers[INTERNAL_HEADER] = internal_token

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = False,
    ) -> requests.Response:
        method = method.upper()
        all_headers = dict(self._headers)
        request_id = get_request_id()
        if request_id:
            all_headers[REQUEST_ID_HEADER] = request_id
        all_headers.update(headers or {})
        if idempotent:
            session = self._idempotent
        else:
            session = self._safe if method in SAFE_METHODS else self._unsafe
        url = f"{self.base_url}{path}"
        # Prepared here and handed to Session.send: Session.request would merge the session's
        # settings and the environment's into each call (a third of the client's CPU).
        prepared = requests.PreparedRequest()
        try:
            prepared.prepare(method=method, url=url, headers=all_headers, json=json)
            response = session.send(
                prepared, timeout=self.timeout, proxies=self._proxies, verify=self._verify
            )
        except requests.RequestException as exc:
            logger.warning("service call failed", extra={"url": url, "error": str(exc)})
            raise ServiceCallError(f"{method} {url} failed: {exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise ServiceCallError(
                f"{method} {url} answered {response.status_code}", status_code=response.status_code
            )
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

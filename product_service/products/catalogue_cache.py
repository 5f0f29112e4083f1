"""The public catalogue's read cache: whole 200 answers of the public GET routes.

``GET /product/``, ``GET /product/list``, ``GET /product/{id}`` and
``GET /product/{id}/reviews`` answer every caller alike (nothing in them depends on who
asks), so ``CatalogueCacheMiddleware`` keeps their 200 answers in the ``catalogue`` cache
for ``CATALOGUE_CACHE_SECONDS`` and serves a repeat before URL routing, sessions, DRF and
the store. The key is the generation (below), scheme, host (the page links are absolute),
path, the query string with its parameters sorted by name, and ``Accept``. Only JSON 200s
without cookies are stored; anything else (a 400 for a bad query, a 404) always comes
from the view. A request whose token the views would refuse (401) is never served from
the cache: a hit for a request carrying a token is served only once ``verify_token``
(the views' authentication, cached per process) accepts it.

Concurrent misses for one key in one process are coalesced: the first asks the store,
the others wait for its answer (up to a few seconds) and serve it as a hit.

Invalidation is by generation: every key includes a counter kept in the same cache, and
every write this process answers (any POST/PUT/PATCH/DELETE not refused with a 4xx:
product and review changes, restocks, admin edits) moves it on, so the process's older
entries are never read again and age out. A write view that changes nothing the catalogue
must show at once says so with ``mark_unchanged``: the internal stock moves (reservations,
commits, releases, expiry; ``products.views.InternalView``) only change the counts shown,
which may be up to the TTL old anyway and which orders never rely on (a reservation checks
stock atomically). Invalidating on each would empty the cache at the order rate. Anything
unmarked invalidates, so a write path added later errs on the fresh side. A reader takes the generation before it queries the
store, so an answer built while a write lands is stored under the old generation and never
served.

With ``REDIS_URL`` set the cache is the ``shared`` Redis cache: entries and the generation
are one for every gunicorn worker and pod, so a write through any of them is seen through
all at once. Without it (the default) both are per process: other workers and pods see a
change when their entries expire, within ``CATALOGUE_CACHE_SECONDS``. While Redis is
unreachable every read is a miss answered from the store (``ecommerce_common.cache``); a
write made during the outage cannot move the generation, so entries stored before it may be
served for the rest of their TTL once Redis is back.
The totals of the paginated lists (``count``) are cached the same way, per filter, by
``products.pagination``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from ecommerce_common.errors import ServiceUnavailable
from ecommerce_common.user_auth import token_from_request, verify_token
from products.metrics import CATALOGUE_CACHE

# The public read routes whose answers are the same for every caller (products/urls.py).
CACHED_ROUTES = frozenset(
    {"product-list", "product-list-legacy", "product-detail", "product-reviews"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
GENERATION_KEY = "catalogue:generation"
# The generation outlives every entry by far; when it does expire (or Redis evicts it) a new
# one starts, which only makes the older entries unreachable a little early.
GENERATION_SECONDS = 24 * 60 * 60
# How long a request waits for another thread's answer to the same question before
# asking the store itself (that answer may be slow, or not cacheable).
WAIT_FOR_OTHER_READER_SECONDS = 5.0
# Set here on the way out, never replayed from an entry.
OWN_HEADERS = frozenset({"cache-control", "x-cache", "age"})


def cache_seconds() -> int:
    """How long an answer may be served from the cache; 0 (or less) turns the cache off."""
    return settings.CATALOGUE_CACHE_SECONDS


def _cache() -> BaseCache:
    return caches[settings.CATALOGUE_CACHE_ALIAS]


def generation() -> int:
    """The current generation; a fresh one (the clock in ns) if the cache holds none."""
    cache = _cache()
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, time.time_ns(), timeout=GENERATION_SECONDS)
        value = cache.get(GENERATION_KEY, 0)
    return value


def invalidate() -> None:
    """Make every entry stored so far unreachable (in this process, or everywhere when the
    backend is shared)."""
    cache = _cache()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        # No generation held (never read, or evicted): any new value leaves old keys behind.
        cache.set(GENERATION_KEY, time.time_ns(), timeout=GENERATION_SECONDS)


def _key(kind: str, *parts: object) -> str:
    digest = hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()
    return f"catalogue:{kind}:{digest}"


def mark_unchanged(response: HttpResponse) -> HttpResponse:
    """Tell the middleware that this write changed nothing the catalogue must show at once (a
    stock move: the counts shown may be up to the TTL old), so this process's entries stay
    valid."""
    response.catalogue_unchanged = True
    return response


def count(*, scope: str, compute: Callable[[], int]) -> int:
    """The number of rows ``scope`` (a filter, spelled the same way for the same rows) holds,
    from the cache when it was counted since the last write; ``compute`` counts it."""
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    key = _key("count", generation(), scope)
    cache = _cache()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=seconds)
    return value


# --- the middleware -------------------------------------------------------------------------


@lru_cache(maxsize=10_000)
def _is_catalogue_path(path: str) -> bool:
    # Remembered per path: resolving is a sixth of a hit's own cost, and hot paths repeat.
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.url_name in CACHED_ROUTES


def _normalised_query(raw: str) -> str:
    """The query string with its parameters sorted by (decoded) name, as they came otherwise.

    The sort is stable, so a repeated parameter keeps its values' order: the view reads the
    last one, and ``?a=1&a=2`` and ``?a=2&a=1`` are different questions.
    """
    parameters = [part for part in raw.split("&") if part]
    parameters.sort(key=lambda part: unquote_plus(part.partition("=")[0]))
    return "&".join(parameters)


def _response_key(request: HttpRequest) -> str:
    query = _normalised_query(request.META.get("QUERY_STRING", ""))
    return _key(
        "response",
        generation(),
        request.scheme,
        request.get_host(),
        request.path,
        query,
        request.headers.get("Accept", ""),
    )


def _caller_accepted(request: HttpRequest) -> bool:
    """Whether the views would answer this caller: no token, or one user_service accepts.

    A bad or revoked token is refused even on public reads; that 401 (or a 503 while the
    token cannot be checked) must come from the view, not from the cache.
    """
    token = token_from_request(request)
    if token is None:
        return True
    try:
        return verify_token(token) is not None
    except ServiceUnavailable:
        return False


def _storable(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and response.get("Content-Type", "").startswith("application/json")
    )


def _mark(response: HttpResponse, outcome: str, *, public_for: int | None) -> HttpResponse:
    if public_for is not None:
        response["Cache-Control"] = f"public, max-age={public_for}"
    response["X-Cache"] = outcome
    CATALOGUE_CACHE.labels(outcome).inc()
    return response


class _ReadsInFlight:
    """The answers this process is building, so that concurrent requests for one answer wait
    for the first instead of all querying the store (a dogpile whenever a hot entry expires)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._building: dict[str, threading.Event] = {}

    def claim(self, key: str) -> threading.Event | None:
        """None: the caller builds the answer and must ``release`` the key. Otherwise the
        event that is set when the thread building it is done."""
        with self._lock:
            other = self._building.get(key)
            if other is None:
                self._building[key] = threading.Event()
            return other

    def release(self, key: str) -> None:
        with self._lock:
            done = self._building.pop(key)
        done.set()


_in_flight = _ReadsInFlight()


class CatalogueCacheMiddleware:
    """Serve the public catalogue reads from the cache; invalidate it after every write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = cache_seconds()
        if seconds <= 0:
            return self.get_response(request)
        if request.method == "GET" and _is_catalogue_path(request.path_info):
            return self._read(request, seconds)
        response = self.get_response(request)
        # A refused write (4xx) changed nothing; a 5xx may have changed part of it.
        if (
            request.method not in SAFE_METHODS
            and not 400 <= response.status_code < 500
            and not getattr(response, "catalogue_unchanged", False)
        ):
            invalidate()
        return response

    def _read(self, request: HttpRequest, seconds: int) -> HttpResponse:
        # The key (and its generation) is taken before the view reads the store.
        key = _response_key(request)
        entry: dict[str, Any] | None = _cache().get(key)
        if entry is None:
            other_reader = _in_flight.claim(key)
            if other_reader is None:
                try:
                    return self._miss(request, key, seconds)
                finally:
                    _in_flight.release(key)
            other_reader.wait(WAIT_FOR_OTHER_READER_SECONDS)
            entry = _cache().get(key)
        if entry is None or not _caller_accepted(request):
            return self._miss(request, key, seconds)
        response = HttpResponse(entry["body"])
        for name, value in entry["headers"]:
            response[name] = value
        response["Age"] = str(max(0, int(time.time() - entry["stored_at"])))
        return _mark(response, "hit", public_for=seconds)

    def _miss(self, request: HttpRequest, key: str, seconds: int) -> HttpResponse:
        response = self.get_response(request)
        if not _storable(response):
            return _mark(response, "miss", public_for=None)
        headers = [(k, v) for k, v in response.items() if k.lower() not in OWN_HEADERS]
        entry = {"body": response.content, "headers": headers, "stored_at": time.time()}
        _cache().set(key, entry, timeout=seconds)
        return _mark(response, "miss", public_for=seconds)

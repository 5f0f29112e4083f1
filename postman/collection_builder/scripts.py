"""The JavaScript that many requests share, read from the files in ``js/``.

Each file is one snippet as the collection embeds it. A placeholder is written ``__NAME__`` (a
valid JavaScript identifier, so the files stay JavaScript) and is filled from the keyword of the
same name in lower case: ``snippet("status", code=200)`` fills ``__CODE__``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

JS = Path(__file__).resolve().parent / "js"
PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)__")
POLL_TRIES = 60
POLL_DELAY_MS = 500


@cache
def _source(name: str) -> str:
    return (JS / f"{name}.js").read_text().strip("\n")


def snippet(name: str, **values: object) -> str:
    """js/NAME.js with its placeholders filled (a KeyError names one left without a value)."""
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1).lower()]), _source(name))


def block(name: str, **values: object) -> str:
    """The snippet on lines of its own, to be appended to another script."""
    return "\n" + snippet(name, **values) + "\n"


def status(code: int) -> str:
    return snippet("status", code=code)


def error(code: int, error_code: str | None = None, *fields: str) -> str:
    """A 4xx in the shared error format ``{message, code, errors}``."""
    lines = [status(code), snippet("error_body")]
    if error_code:
        lines.append(snippet("error_code", code=error_code))
    lines += [snippet("error_field", field=field) for field in fields]
    return "\n".join(lines)


PAGE = block("page")
CLEAR_COOKIES = block("clear_cookies")
DIRECT_ONLY = block("direct_only")
HTML_PAGE = block("html_page")
NO_SERVER_ERRORS = block("no_server_errors")


def user_shape(expr: str = "pm.response.json()") -> str:
    return block("user_shape", expr=expr)


def product_shape(expr: str = "pm.response.json()") -> str:
    return block("product_shape", expr=expr)


def order_shape(expr: str = "pm.response.json()") -> str:
    return block("order_shape", expr=expr)


def order_status(status_name: str, label: str) -> str:
    return block("order_status", status=status_name, label=label)


def poll(var: str, done: str, then: str, *, tries: int = POLL_TRIES) -> tuple[str, str]:
    """(pre-request, test) scripts re-running this request until ``done`` (JS) holds.

    Bounded: at most ``tries`` runs, ``POLL_DELAY_MS`` apart; the counter lives in the collection
    variable ``var`` and is reset when the wait ends, whichever way it ends.
    """
    pre = block("poll_pre", var=var, delay_ms=POLL_DELAY_MS)
    seconds = tries * POLL_DELAY_MS // 1000
    test = block("poll_test", var=var, done=done, tries=tries, seconds=seconds, then=then)
    return pre, test

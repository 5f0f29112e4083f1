"""Postman items: a request with its scripts, its URL, a folder."""

from __future__ import annotations

import json

# Ids no row has: well-formed, so the 404 is the lookup's, not the parser's.
UNKNOWN_PRODUCT_ID = "0000000000000000000000aa"
UNKNOWN_ORDER_ID = "00000000-0000-4000-8000-000000000000"


def js(text: str) -> list[str]:
    """A script as Postman stores it: its lines."""
    return text.strip("\n").split("\n")


def url(base: str, path: str, query: dict[str, str] | None = None) -> dict:
    segments = [s for s in path.strip("/").split("/") if s]
    raw = "{{" + base + "}}" + path
    result: dict = {"raw": raw, "host": ["{{" + base + "}}"], "path": segments}
    if path.endswith("/"):
        result["path"] = [*segments, ""]
    if query:
        result["raw"] += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        result["query"] = [{"key": k, "value": v} for k, v in query.items()]
    return result


def request(
    name: str,
    method: str,
    base: str,
    path: str,
    *,
    token: str | None = None,
    body: object = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    test: str = "",
    pre: str = "",
    description: str = "",
) -> dict:
    req: dict = {
        "method": method,
        "header": [],
        "url": url(base, path, query),
    }
    if description:
        req["description"] = description
    if token:
        req["auth"] = {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{" + token + "}}", "type": "string"}],
        }
    else:
        req["auth"] = {"type": "noauth"}
    for key, value in (headers or {}).items():
        req["header"].append({"key": key, "value": value})
    if body is not None:
        req["header"].append({"key": "Content-Type", "value": "application/json"})
        req["body"] = {
            "mode": "raw",
            "raw": body if isinstance(body, str) else json.dumps(body, indent=2),
            "options": {"raw": {"language": "json"}},
        }
    item: dict = {"name": name, "request": req, "event": []}
    if pre:
        item["event"].append(
            {"listen": "prerequest", "script": {"type": "text/javascript", "exec": js(pre)}}
        )
    if test:
        item["event"].append(
            {"listen": "test", "script": {"type": "text/javascript", "exec": js(test)}}
        )
    item["response"] = []
    return item


def folder(name: str, description: str, items: list[dict]) -> dict:
    return {"name": name, "description": description, "item": items}

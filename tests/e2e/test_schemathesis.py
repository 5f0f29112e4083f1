"""Schemathesis against every service's OpenAPI schema, as the running system serves it.

For each operation of each schema, Schemathesis generates requests from the schema
(valid ones and deliberately invalid ones: wrong types, missing fields, values out of
range, odd strings) and sends them to the real service, authenticated as the schema
says (a user's Bearer token on public routes, ``X-Internal-Token`` on internal ones).
Every response must:

- never be a 5xx (``not_a_server_error``);
- match the schema documented for its status code (``response_schema_conformance``)
  and media type (``content_type_conformance``);
- have a status code the schema documents (``status_code_conformance``).

Generation is bounded (``SCHEMATHESIS_MAX_EXAMPLES`` per operation, default 40) and
derandomized from a fixed seed, so a run is repeatable; set ``SCHEMATHESIS_SEED`` to
explore other inputs. A failure names the operation and prints a curl command that
reproduces it.
"""

from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from schemathesis import Config
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support.loopback import session_from

SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261124"))
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40"))

# The services whose schemas have operations (integration_service's is checked below).
SERVICES = ["user_service", "product_service", "order_service"]

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]

# user_service throttles registration, refresh and login failures per client IP: the
# fuzzer connects from an address of its own so it does not spend the other tests' budget,
# and logs its user in from another (the fuzzed logins' failures may lock its address out).
FUZZ_SOURCE_ADDRESS = "127.0.0.77"
LOGIN_SOURCE_ADDRESS = "127.0.0.76"

# gunicorn refuses a request line over 4094 bytes (414) before the service sees it: a
# transport limit, not an answer of the API, so the schema cannot and does not describe it.
URI_TOO_LONG = 414


def config(known_ids: dict[str, list[str]] | None = None) -> Config:
    """Bounded, derandomized generation; path ids drawn half the time from ``known_ids``.

    ``known_ids`` maps a path parameter (``product_id``, ``order_id``) to ids of real objects
    the fuzzer's user owns, so the generated bodies reach the code behind the 404 too.
    """
    known_ids = {name: ids for name, ids in (known_ids or {}).items() if ids}
    return Config.from_dict(
        {
            "seed": SEED,
            "dictionaries": {name: {"values": ids} for name, ids in known_ids.items()},
            "parameters": {
                f"path.{name}": {"dictionary": name, "probability": 0.5} for name in known_ids
            },
            # Hypothesis's health checks judge the generator, not the API: on a real server on
            # a small (and possibly busy) machine they would fail runs for no fault of ours.
            "suppress-health-check": [
                "too_slow",
                "filter_too_much",
                "data_too_large",
                "large_base_example",
            ],
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # Credentials are ours (below), never generated.
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )


def load_schema(api, service: str, known_ids=None) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(
        api.url(service, "/api/schema"), config=config(known_ids)
    )
    schema.config.update(base_url=api.url(service, ""))
    return schema


class Credentials:
    """A user of its own for the fuzzer; each fuzzed logout gets a token of its own to revoke."""

    def __init__(self, api) -> None:
        self.api = api
        self.session = session_from(LOGIN_SOURCE_ADDRESS)
        self.user, self.token = api.new_user()

    def fresh_token(self) -> str:
        # Through the cookie-less session, so the revoked token lingers in no cookie jar.
        response = self.session.post(
            self.api.url("user_service", "/users/login"),
            json={"email": self.user["email"], "password": self.user["password"]},
            timeout=15,
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def headers_for(self, case) -> dict[str, str]:
        path = case.operation.path
        if path.startswith("/internal/"):
            headers = {"X-Internal-Token": self.api.internal_token}
            if path == "/internal/verify":
                headers["Authorization"] = f"Bearer {self.token}"
            return headers
        if path == "/users/logout":
            # Logging out revokes the token used: log out a token of its own.
            return {"Authorization": f"Bearer {self.fresh_token()}"}
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def fuzz_session():
    session = session_from(FUZZ_SOURCE_ADDRESS)
    yield session
    session.close()


@pytest.fixture(scope="module")
def credentials(api):
    credentials = Credentials(api)
    yield credentials
    credentials.session.close()


def known_objects(api, credentials, service: str) -> dict[str, list[str]]:
    """Real objects of the fuzzer's user for the service's path ids."""
    token = credentials.token
    if service == "product_service":
        products = [api.create_product(token, quantity=50)["id"] for _ in range(3)]
        reservations = []
        for _ in range(3):
            order_id = f"fuzz-{uuid.uuid4().hex}"
            response = api.internal(
                "POST",
                "product_service",
                "/internal/reservations",
                json={"orderId": order_id, "items": [{"productId": products[0], "quantity": 1}]},
            )
            assert response.status_code == 201, response.text
            reservations.append(order_id)
        return {"product_id": products, "order_id": reservations}
    if service == "order_service":
        product = api.create_product(token, quantity=100)["id"]
        orders = []
        for _ in range(3):
            response = api.place_order(token, [(product, 1)])
            assert response.status_code == 201, response.text
            orders.append(response.json()["id"])
        return {"order_id": orders}
    return {}


@pytest.fixture(params=SERVICES)
def service_schema(request, api, credentials):
    return load_schema(api, request.param, known_objects(api, credentials, request.param))


schema = schemathesis.pytest.from_fixture("service_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case, credentials, fuzz_session):
    headers = credentials.headers_for(case)
    response = case.call(session=fuzz_session, headers=headers, timeout=20)
    if response.status_code == URI_TOO_LONG:
        return
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_integration_service_schema_is_served_and_valid(api):
    """integration_service has no API of its own (health, readiness, admin): an empty, valid schema."""
    schema = load_schema(api, "integration_service")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations == []
    assert schema.raw_schema["openapi"].startswith("3.")

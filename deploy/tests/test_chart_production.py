"""values-production.yaml: no render without a host and TLS or with the simulated payment
gateway; without it, NOTES.txt warns."""

from __future__ import annotations

import copy

import helm_python
import pytest
import yaml
from chart_support import CHART, SCALED_WITH_TLS, by_name, render

PRODUCTION = yaml.safe_load((CHART / "values-production.yaml").read_text())
GATEWAY = "shop_payments.StripeGateway"


def production(**changes) -> dict:
    values = copy.deepcopy(PRODUCTION)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return values


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, r"set ingress\.host"),
        ({"ingress__host": "shop.example.com", "ingress__tls__enabled": False}, r"tls\.enabled"),
        ({"ingress__host": "shop.example.com", "ingress__enabled": False}, r"ingress\.host"),
        (
            {"ingress__host": "shop.example.com", "config__allowedHosts": ["*"]},
            r"allowedHosts may not be \*",
        ),
        (
            {"ingress__host": "shop.example.com", "config__secureCookies": False},
            r"secureCookies may not be false",
        ),
        ({"ingress__host": "shop.example.com"}, r"simulated gateway takes no money"),
    ],
    ids=["no host", "no tls", "no ingress", "any host", "cookies not secure", "simulated payments"],
)
def test_the_production_values_refuse_to_render_an_insecure_release(changes, message):
    with pytest.raises(helm_python.HelmRenderError, match=message):
        render(production(**changes))


def test_the_production_values_with_a_host_render_a_secure_release():
    objects, notes = render(
        production(ingress__host="shop.example.com", orderService__payment__gateway=GATEWAY)
    )

    config = by_name(objects, "ConfigMap", "shop-ecommerce-config")["data"]
    assert "*" not in config["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "shop.example.com" in config["DJANGO_ALLOWED_HOSTS"].split(",")
    assert config["DJANGO_SECURE_COOKIES"] == "true"
    assert config["AUTH_COOKIE_SECURE"] == "true"
    ingress = by_name(objects, "Ingress", "shop-ecommerce")
    assert ingress["spec"]["tls"][0]["hosts"] == ["shop.example.com"]
    assert "NOT SECURE" not in notes


def test_a_plain_install_still_renders_and_warns_loudly_that_it_is_insecure():
    objects, notes = render({})

    assert (
        by_name(objects, "ConfigMap", "shop-ecommerce-config")["data"]["DJANGO_ALLOWED_HOSTS"]
        == "*"
    )
    assert "WARNING: THIS RELEASE IS NOT SECURE" in notes
    assert "No ingress.host" in notes
    assert "No TLS" in notes
    assert "values-production.yaml" in notes


def test_a_host_without_tls_is_still_warned_about():
    _, notes = render({"ingress": {"host": "shop.example.com"}})
    assert "NOT SECURE" in notes
    assert "No TLS" in notes
    assert "No ingress.host" not in notes


def test_a_release_with_a_host_and_tls_is_not_warned_about():
    _, notes = render(SCALED_WITH_TLS)
    assert "NOT SECURE" not in notes


def test_a_plain_install_runs_the_payment_simulator_and_warns_that_no_money_is_taken():
    _, notes = render({})
    assert "PAYMENTS ARE SIMULATED" in notes

    _, notes = render({"orderService": {"payment": {"gateway": GATEWAY}}})
    assert "PAYMENTS ARE SIMULATED" not in notes


def test_the_simulated_gateway_refused_outside_production_too_when_not_allowed():
    with pytest.raises(helm_python.HelmRenderError, match=r"orderService\.payment"):
        render({"orderService": {"payment": {"allowSimulator": False}}})

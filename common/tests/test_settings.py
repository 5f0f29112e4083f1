from ecommerce_common.settings import database


def test_postgresql_binds_parameters_on_the_server_unless_the_url_turns_it_off(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/orders")
    assert database(dev_default="sqlite:///x")["OPTIONS"]["server_side_binding"] is True

    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/orders?server_side_binding=false")
    # Django enables it only for the value True: the URL's "false" turns it off.
    assert database(dev_default="sqlite:///x")["OPTIONS"]["server_side_binding"] is not True


def test_sqlite_gets_no_postgresql_options(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/dev.sqlite3")

    assert "server_side_binding" not in database(dev_default="sqlite:///x").get("OPTIONS", {})

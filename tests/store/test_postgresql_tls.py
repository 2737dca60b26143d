"""libpq's TLS options in a postgresql:// URL reach psycopg's connect unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from gateway.store import engine as engines
from tests.store.conftest import POSTGRES_URL

TLS = {"sslmode": "verify-full", "sslrootcert": "/etc/deal-desk/ca.pem",
       "sslcert": "/etc/deal-desk/client.crt", "sslkey": "/etc/deal-desk/client.key"}
URL = ("postgresql://deal_desk:pw@db.internal.example:5432/deal_desk?sslmode=verify-full"
       "&sslrootcert=/etc/deal-desk/ca.pem&sslcert=/etc/deal-desk/client.crt&sslkey=/etc/deal-desk/client.key")


class Stop(Exception):
    """Raised instead of connecting, once the connect arguments are seen."""


def given(engine: Engine) -> dict[str, Any]:
    """The keyword arguments `engine` hands psycopg.connect for a new connection (no server contacted)."""
    seen: dict[str, Any] = {}

    def do_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise Stop

    event.listen(engine, "do_connect", do_connect)
    try:
        with pytest.raises(Stop):
            engine.connect()
    finally:
        event.remove(engine, "do_connect", do_connect)
    return seen


@pytest.fixture
def engine() -> Iterator[Engine]:
    created = engines.create(URL)
    yield created
    created.dispose()


def test_the_url_keeps_the_tls_options_on_the_psycopg_driver(engine: Engine) -> None:
    assert engine.url.drivername == "postgresql+psycopg"
    bounded = "-c statement_timeout=10000 -c lock_timeout=10000"  # DEAL_DESK_STATEMENT_TIMEOUT_S
    assert dict(engine.url.query) == {**TLS, "options": bounded}


def test_psycopg_is_given_every_tls_option(engine: Engine) -> None:
    cparams = given(engine)
    assert {key: cparams[key] for key in TLS} == TLS
    libpq = conninfo_to_dict(make_conninfo("", **{k: v for k, v in cparams.items() if k != "context"}))
    assert {key: libpq[key] for key in TLS} == TLS  # what libpq itself would read


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_URL is None, reason="needs DEAL_DESK_TEST_POSTGRES_URL")
def test_libpq_enforces_sslmode_require_against_a_real_server() -> None:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).update_query_dict({"sslmode": "require"})
    engine = engines.create(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert isinstance(raw, psycopg.Connection) and raw.pgconn.ssl_in_use
    except OperationalError as error:  # a server without TLS: refused rather than spoken to in the clear
        assert "does not support SSL" in str(error.orig)
    finally:
        engine.dispose()

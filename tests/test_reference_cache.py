"""The short-lived cache of advertisers, agencies and users by id: hits skip SQL, writes and age end them."""

from __future__ import annotations

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.store.reference_cache import ReferenceCache, changed
from tests.support.gateway import Gateway

ADVERTISER = "query One($id: ID!) { advertiser(id: $id) { id name } }"
AGENCY = "query One($id: ID!) { agency(id: $id) { id name } }"
ME = "{ me { id displayName } }"
SCOPING_PAGE = """
query Scoping { scopingRequests(first: 5) { edges { node { id requestedBy { displayName }
                                                           advertiser { name } } } } }
"""


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def desk(gateway: Gateway, name: str | None = None) -> str:
    """A DEAL_DESK token (the users row is created by the first request)."""
    return issue_token(gateway.settings, email="desk@x.test", roles=[Role.DEAL_DESK], region="NA", name=name)


async def test_a_cached_advertiser_is_answered_without_sql(gateway: Gateway) -> None:
    advertiser = gateway.data.advertiser("Acme")
    token = desk(gateway)
    await gateway.data_of(ME, token=token)

    first, data = await gateway.count_statements(ADVERTISER, {"id": advertiser}, token=token)
    again, cached = await gateway.count_statements(ADVERTISER, {"id": advertiser}, token=token)

    assert (first, again) == (1, 0)
    assert cached == data == {"advertiser": {"id": advertiser, "name": "Acme"}}


async def test_cached_parties_and_users_save_the_scoping_page_its_reference_reads(gateway: Gateway) -> None:
    seller = gateway.data.user("seller@x.test", "SELLER")
    advertiser = gateway.data.advertiser("Acme")
    gateway.data.scoping(requested_by=seller, advertiser=advertiser)
    token = desk(gateway)
    await gateway.data_of(ME, token=token)

    first, data = await gateway.count_statements(SCOPING_PAGE, token=token)
    again, cached = await gateway.count_statements(SCOPING_PAGE, token=token)

    assert (first, again) == (3, 1)  # page, requester, advertiser; then the page only
    assert cached == data


async def test_a_write_through_the_api_shows_in_the_next_read(gateway: Gateway) -> None:
    await gateway.data_of(ME, token=desk(gateway, name="Dee"))
    assert (await gateway.data_of(ME, token=desk(gateway, name="Dee")))["me"]["displayName"] == "Dee"

    # New claims: the request's user sync updates the users row through a Writer.
    renamed = await gateway.data_of(ME, token=desk(gateway, name="Dee Renamed"))

    assert renamed["me"]["displayName"] == "Dee Renamed"


async def test_an_expired_entry_is_read_again(gateway: Gateway) -> None:
    clock = gateway.app.state.reference_cache.clock = Clock()
    agency = gateway.data.agency("Mediahaus")
    token = desk(gateway)
    await gateway.data_of(AGENCY, {"id": agency}, token=token)

    clock.now += gateway.settings.reference_cache_s - 0.001
    fresh, _ = await gateway.count_statements(AGENCY, {"id": agency}, token=token)
    clock.now += 0.002
    expired, _ = await gateway.count_statements(AGENCY, {"id": agency}, token=token)

    assert (fresh, expired) == (0, 1)


async def test_a_caller_without_a_role_never_gets_cached_rows(gateway: Gateway) -> None:
    advertiser = gateway.data.advertiser("Acme")
    await gateway.data_of(ADVERTISER, {"id": advertiser}, token=desk(gateway))  # now cached
    nobody = gateway.token("nobody@x.test")
    await gateway.data_of(ME, token=nobody)

    sent, data = await gateway.count_statements(ADVERTISER, {"id": advertiser}, token=nobody)

    assert data == {"advertiser": None}
    assert sent == 1  # asked the store, under the rule that shows a role-less caller nothing


def test_a_read_that_began_before_a_change_does_not_store_its_row() -> None:
    cache = ReferenceCache(60)
    began = cache.generation

    cache.invalidate({("users", "u1")})
    cache.put("users", "u1", "old row", began)

    assert cache.get("users", "u1") is None


def test_a_row_read_during_the_writing_transaction_is_dropped_when_it_ends(gateway: Gateway) -> None:
    engine, cache = gateway.app.state.db.engine, gateway.app.state.reference_cache
    with engine.connect() as connection, connection.begin():
        changed(connection, "users", "u1")
        cache.put("users", "u1", "row before the commit", cache.generation)  # a read after the first drop
        assert cache.get("users", "u1") == "row before the commit"

    assert cache.get("users", "u1") is None  # dropped again once the connection went back to the pool

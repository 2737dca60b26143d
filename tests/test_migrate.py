"""The migration runner applies each migration the store has no record of, whatever the highest applied."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, inspect

from gateway.core.tables import schema_version
from gateway.store.migrate import MIGRATIONS, applied_versions, migrate


def test_a_migration_that_lands_after_a_later_one_is_still_applied(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:  # as if 7 landed on main after a store had a later one
        connection.exec_driver_sql("DROP TABLE persisted_queries")
        connection.execute(schema_version.delete().where(schema_version.c.version == 7))
        connection.execute(schema_version.insert().values(
            version=99, description="from a later branch", applied_at=dt.datetime.now(dt.UTC)))

    applied = migrate(engine)

    assert [m.version for m in applied] == [7]
    assert inspect(engine).has_table("persisted_queries")
    with engine.connect() as connection:
        assert applied_versions(connection) == {m.version for m in MIGRATIONS} | {99}
    assert migrate(engine) == []
    engine.dispose()


def test_the_lakehouse_migration_is_recorded_on_stores_without_delta(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        assert 9 in applied_versions(connection)
    engine.dispose()

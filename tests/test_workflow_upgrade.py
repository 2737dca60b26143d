"""Migration 6 upgrades a store from before parallel steps: its chains go on, CARRIED_OVER is allowed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, create_engine, inspect, select
from sqlalchemy.exc import IntegrityError

from gateway.core.settings import Settings
from gateway.core.tables import approval_actions, deal_approvals, schema_version
from gateway.store.migrate import WORKFLOW_COLUMNS, current_version, migrate
from tests.support.gateway import Gateway
from tests.support.workflow import Workflow, pending


def downgrade_to_version_5(connection: Connection) -> None:
    """Undo migrations 6 and 7 by hand: the store as gateways before them left it (SQLite keeps the FK
    column, which it cannot drop, so the upgrade adds the others)."""
    connection.exec_driver_sql("DROP TABLE persisted_queries")
    dialect = connection.dialect.name
    dropped = [c for c in WORKFLOW_COLUMNS if not (dialect == "sqlite" and c == "carried_over_from")]
    for column in dropped:
        connection.exec_driver_sql(f"ALTER TABLE deal_approvals DROP COLUMN {column}")
    if dialect == "sqlite":
        created = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'approval_actions'").scalar_one()
        connection.exec_driver_sql("ALTER TABLE approval_actions RENAME TO approval_actions_v6")
        connection.exec_driver_sql(created.replace(", 'CARRIED_OVER'", ""))
        connection.exec_driver_sql("INSERT INTO approval_actions SELECT * FROM approval_actions_v6")
        connection.exec_driver_sql("DROP TABLE approval_actions_v6")
    else:
        connection.exec_driver_sql("ALTER TABLE approval_actions DROP CONSTRAINT ck_approval_actions_action")
        connection.exec_driver_sql("ALTER TABLE approval_actions ADD CONSTRAINT ck_approval_actions_action "
                                   "CHECK (action IN ('APPROVE', 'REJECT', 'REQUEST_CHANGES', 'COMMENT'))")
    connection.execute(schema_version.delete().where(schema_version.c.version >= 6))


def carried_over_allowed(engine: Engine) -> bool:
    """Whether the store takes an approval action CARRIED_OVER (inserted, then rolled back)."""
    with engine.connect() as connection:
        row = connection.execute(select(approval_actions).limit(1)).one()
        try:
            connection.execute(approval_actions.insert().values(
                {**row._mapping, "id": "01900000-0000-7000-8000-0000000000cc", "action": "CARRIED_OVER"}))
        except IntegrityError:  # the CHECK refused it
            return False
        finally:
            connection.rollback()
        return True


async def test_a_store_from_before_parallel_steps_is_upgraded_and_its_chains_go_on(
    gateway: Gateway, settings: Settings,
) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    gateway.app.state.db.dispose()
    engine = create_engine(settings.database_url)
    with engine.begin() as connection:
        downgrade_to_version_5(connection)
        assert current_version(connection) == 5
    assert not carried_over_allowed(engine)

    applied = migrate(engine)

    assert [m.version for m in applied][:2] == [6, 7]  # and any later ones
    a = deal_approvals.c
    with engine.connect() as connection:
        rows = connection.execute(select(a.stage, a.sequence, a.step, a.due_hours, a.remind_before_hours,
                                         a.escalate_to).order_by(a.sequence)).all()
        actions = connection.execute(select(approval_actions.c.action)).scalars().all()
    indexes = {index["name"] for index in inspect(engine).get_indexes("approval_actions")}
    stages = ("SALES_MANAGER", "DEAL_DESK", "FINANCE")
    assert [(r.stage, r.sequence, r.step, r.due_hours, r.remind_before_hours, r.escalate_to)
            for r in rows] == [
        (stage, n, n, 48, 12, "DEAL_DESK") for n, stage in enumerate(stages, start=1)]
    assert actions == ["APPROVE"]  # the rows are kept
    assert indexes == {str(index.name) for index in approval_actions.indexes}
    assert carried_over_allowed(engine)
    assert migrate(engine) == []  # idempotent
    engine.dispose()

    # The chain submitted before the upgrade goes on: the next stage is due after its stored hours.
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="desk")
    finance = pending(deal)
    started = dt.datetime.fromisoformat(deal["approvals"][1]["decidedAt"])
    assert dt.datetime.fromisoformat(finance["dueAt"]) - started == dt.timedelta(hours=48)

"""The `deal-desk` command line: serve, migrate, seed, token, export-schema."""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.core.roles import Role
from gateway.core.settings import ConfigError, Settings

SOURCE_PACKAGES = ("gateway", "auth", "loaders", "resolvers")  # what --reload watches
cli = typer.Typer(help="Deal Desk GraphQL gateway.", no_args_is_help=True)  # --install-completion


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(min=1, help="Worker processes on the port.")] = 1,
          reload: Annotated[bool, typer.Option(help="Development: restart on a source change.")] = False,
          ) -> None:
    """Run the gateway (migrating the store first)."""
    _check_rules(Settings())
    if reload:
        _serve_reloading(Settings(), host=host, port=port, workers=workers)
        return
    if workers > 1:
        from gateway.ops.workers import serve as serve_workers

        serve_workers(Settings(), host=host, port=port, workers=workers)
        return
    import uvicorn

    from gateway.app import create_app
    from gateway.core.logging import configure_logging
    from gateway.http import connections
    from gateway.ops.metrics_port import serve_metrics
    from gateway.ops.workers import settle_heap

    settings = Settings()
    configure_logging(settings.log_level)
    typer.echo(f"GraphiQL: http://{host}:{port}/graphql  (store: {settings.database_url.split('://')[0]})")
    app = create_app(settings)
    serve_metrics(settings, host)
    settle_heap()
    signal.signal(signal.SIGTERM, _exit_cleanly)  # uvicorn puts it back once it has shut down
    # log_config=None: uvicorn's own lines go through our JSON logging; the access log is ours.
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), log_config=None,
                access_log=False, timeout_graceful_shutdown=30, **connections.uvicorn_options(settings))


def _check_rules(settings: Settings) -> None:
    """A bad approval rules file stops start-up with one line naming the file and the line."""
    from gateway.workflow.rules_file import RulesFileError, approval_rules

    try:
        approval_rules(settings.approval_rules_file)
    except RulesFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error


def _serve_reloading(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """uvicorn's own reloader: a fresh gateway process whenever a file of the gateway's packages changes."""
    import uvicorn

    from gateway.core.logging import configure_logging

    if settings.is_production:
        raise typer.BadParameter("--reload is for development, not DEAL_DESK_ENV=production")
    if workers > 1:
        raise typer.BadParameter("--reload runs one process: leave out --workers")
    configure_logging(settings.log_level)
    root = Path(__file__).resolve().parents[2]
    typer.echo(f"GraphiQL: http://{host}:{port}/graphql  (reloading on changes under {root})")
    uvicorn.run("gateway.app:create_app", factory=True, host=host, port=port, reload=True,
                reload_dirs=[str(root / package) for package in SOURCE_PACKAGES],
                log_level=settings.log_level.lower(), log_config=None, access_log=False)


def _exit_cleanly(_signum: int, _frame: object) -> None:
    """SIGTERM outside uvicorn, and the one it re-raises after its graceful shutdown: exit with status 0."""
    raise SystemExit(0)


@cli.command()
def migrate() -> None:
    """Create or upgrade the schema of the store; safe to run again."""
    from gateway.store.database import Database
    from gateway.store.migrate import migrate as apply

    db = Database(Settings().database_url)
    applied = apply(db.engine)
    typer.echo(f"applied {len(applied)} migration(s)" if applied else "schema is up to date")
    db.dispose()


@cli.command()
def seed(scale: Annotated[int, typer.Option(min=1, help="Months of history; 84 = the 7-year volumes.")] = 1,
         seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 7,
         if_empty: Annotated[bool, typer.Option(help="Skip when the store has deals.")] = False) -> None:
    """Write deterministic demo data."""
    from gateway.ops import seed as seeding
    from gateway.store.database import Database
    from gateway.store.migrate import migrate as apply

    db = Database(Settings().database_url)
    apply(db.engine)
    if if_empty and seeding.has_deals(db.engine):
        typer.echo("store already has deals; not seeding")
        return
    try:
        counts = seeding.seed(db.engine, scale=scale, seed=seed)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(", ".join(f"{table} {count}" for table, count in counts.items()))
    _refresh_guidance(db)
    db.dispose()


def _refresh_guidance(db: Any) -> None:
    """The pricing guidance of the data just written, so that GraphiQL shows figures at once."""
    import asyncio

    from gateway.store import pricing_refresh

    written = asyncio.run(pricing_refresh.refresh(db, refresh_s=None))
    typer.echo(f"pricing guidance refreshed: {written} segment rows")


@cli.command()
def token(email: Annotated[str, typer.Option(help="The user's e-mail (subject dev|<email>).")],
          role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
          region: str | None = None, name: str | None = None, hours: int = 12) -> None:
    """Print a dev-auth bearer token (only when no Okta issuer is configured); keeps a known user's name."""
    from auth.dev import issue_token
    from gateway.ops.users import display_name

    settings = Settings()
    if settings.auth_issuer or settings.is_production:
        raise typer.BadParameter("dev tokens exist only with dev auth: no DEAL_DESK_AUTH_ISSUER, "
                                 "not DEAL_DESK_ENV=production")
    # Without --name, the store's name for this user: a token's name replaces it at the first request.
    name = name or display_name(settings, email)
    typer.echo(issue_token(settings, email=email, roles=role, region=region, name=name,
                           lifetime_s=hours * 3600))


@cli.command("export-schema")
def export_schema(output: Path = Path("schema.graphql")) -> None:
    """Write the served schema's SDL."""
    from resolvers.schema import schema

    output.write_text(schema.as_str() + "\n")
    typer.echo(f"wrote {output}")


@cli.command("check-config")
def check_config() -> None:
    """Print the effective settings (secrets masked); check the store, the JWKS and the approval rules."""
    from pydantic import ValidationError

    from gateway.ops import check_config as checking

    problems = [f"unknown variable {name}" for name in checking.unknown_variables(os.environ)]
    try:
        settings = Settings()
    except ValidationError as error:
        problems += checking.bad_values(error)
    if problems:
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    for name, value, source in checking.effective(settings, os.environ):
        typer.echo(f"{name}={value}" + ("" if source == "env" else "  # default"))
    typer.echo()
    found = checking.checks(settings)
    for check in found:
        typer.echo(f"{'ok' if check.ok else 'FAIL':<5} {check.name}: {check.detail}")
    if not all(check.ok for check in found):
        raise typer.Exit(1)


audit = typer.Typer(help="The audit trail.", no_args_is_help=True)
cli.add_typer(audit, name="audit")


@audit.command("verify")
def audit_verify(
    repair: Annotated[bool, typer.Option(help="Complete or abort journaled writes cut short.")] = False,
    older_than: Annotated[int, typer.Option(min=0, help="Repair writes unfinished this many seconds or "
                                                        "more (younger ones may still run).")] = 300,
    limit: Annotated[int, typer.Option(min=1, help="Unexplained deals to list at most.")] = 100,
) -> None:
    """Check that every deal's current state is explained by its history and audit records."""
    from gateway.ops import repair as repairs
    from gateway.ops import verify
    from gateway.store.database import Database

    db = Database(Settings().database_url)
    try:
        if repair:
            outcome = repairs.repair(db.engine, older_than=dt.timedelta(seconds=older_than))
            typer.echo(outcome.summary())
        report = verify.verify(db.engine)
    finally:
        db.dispose()
    verify.print_report(report, limit=limit)
    if not report.ok:
        raise typer.Exit(1)


insights = typer.Typer(help="Insights from the deal history: pricing guidance.", no_args_is_help=True)
cli.add_typer(insights, name="insights")


@insights.command("refresh")
def insights_refresh() -> None:
    """Recompute the pricing guidance of every segment now (the gateway does it every
    DEAL_DESK_GUIDANCE_REFRESH_S on its own)."""
    from gateway.store.database import Database
    from gateway.store.migrate import migrate as apply

    settings = Settings()
    db = Database(settings.database_url, settings)
    try:
        apply(db.engine)
        _refresh_guidance(db)
    finally:
        db.dispose()


notify = typer.Typer(help="The outbox of notifications (Slack, webhooks).", no_args_is_help=True)
cli.add_typer(notify, name="notify")


@notify.command("list")
def notify_list(
    failed: Annotated[bool, typer.Option(help="Only the rows given up on.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show at most, newest first.")] = 100,
) -> None:
    """Show the outbox's rows: channel, kind, recipient, status, attempts, the last error's code."""
    from gateway.ops import notify as notifying
    from gateway.store.database import Database

    db = Database(Settings().database_url)
    try:
        notifying.print_rows(notifying.rows(db.engine, failed=failed, limit=limit))
    finally:
        db.dispose()


@cli.command("backup")
def backup_store(
    to: Annotated[str, typer.Option("--to", help="A file (SQLite, PostgreSQL) or a schema (Databricks).")],
) -> None:
    """Back the store up: SQLite's online backup, pg_dump, or a Databricks DEEP CLONE."""
    from gateway.ops import backup

    _with_store(lambda db, url: backup.backup(db.engine, url, to))


@cli.command("restore")
def restore_store(
    source: Annotated[str, typer.Option("--from", help="The backup: a file, or a Databricks schema.")],
    force: Annotated[bool, typer.Option(help="Replace a store that holds data.")] = False,
) -> None:
    """Restore a backup into the store (an empty one, unless --force)."""
    from gateway.ops import backup

    _with_store(lambda db, url: backup.restore(db.engine, url, source, force=force))


databricks = typer.Typer(help="The lakehouse side: governed views for analysts.", no_args_is_help=True)
cli.add_typer(databricks, name="databricks")


@databricks.command("governance")
def databricks_governance(
    apply: Annotated[bool, typer.Option(help="Run the SQL on the warehouse instead of printing it.")] = False,
    sync_users: Annotated[bool, typer.Option(help="Only create and refresh user_access.")] = False,
) -> None:
    """The governed views, user_access and grants of docs/databricks.md, printed or (--apply) run."""
    from gateway.ops import governance
    from gateway.store.database import Database

    settings = Settings()
    try:
        sql = governance.statements(settings, governance.dialect_of(settings), sync_users_only=sync_users)
        if not apply:
            typer.echo(";\n\n".join(sql) + ";")
            return
        db = Database(settings.database_url)
        try:
            governance.apply(db.engine, sql)
        finally:
            db.dispose()
    except governance.GovernanceError as error:
        typer.echo(f"error: {error.code}: {error}", err=True)
        raise typer.Exit(1 if error.code == "WAREHOUSE_REFUSED" else 2) from None
    typer.echo(f"ran {len(sql)} statement(s) on the warehouse")


def _with_store(run: Callable[[Any, str], str]) -> None:
    from gateway.ops.backup import BackupError
    from gateway.store.database import Database

    url = Settings().database_url
    db = Database(url)
    try:
        typer.echo(run(db, url))
    except BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    finally:
        db.dispose()


def main() -> None:
    """Entry point of the `deal-desk` script: a configuration that cannot work is one line, exit 2."""
    from pydantic import ValidationError

    try:
        cli()
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    except ValidationError as error:  # a bad DEAL_DESK_* value: named, never echoed (it may be a secret)
        from gateway.ops.check_config import bad_values

        for line in bad_values(error):
            typer.echo(f"error: {line}", err=True)
        raise SystemExit(2) from None

"""The Dockerfile and compose.yaml, read as Docker reads them (no Docker engine here): what they set works."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.core.settings import Settings

ROOT = Path(__file__).parents[1]
SETTINGS = {f"DEAL_DESK_{field.upper()}" for field in Settings.model_fields}
OTEL = {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"}  # the standard variables docs/operations.md names
INTERPOLATED = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """compose.yaml as data."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    """The Dockerfile, parsed."""
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return parser


def final_stage(dockerfile: DockerfileParser) -> list[dict[str, Any]]:
    """The instructions of the last stage (the image that runs)."""
    instructions = dockerfile.structure
    last_from = max(i for i, instruction in enumerate(instructions) if instruction["instruction"] == "FROM")
    return instructions[last_from:]


def test_every_variable_compose_gives_the_gateway_is_a_known_setting(compose: dict[str, Any]) -> None:
    environment = compose["services"]["gateway"]["environment"]
    assert set(environment) - SETTINGS - OTEL == set()
    assert {"DEAL_DESK_DATABASE_URL", "DEAL_DESK_EVENTS_URL"} <= set(environment)


def test_the_gateway_reaches_postgres_redis_and_the_collector_by_their_service_names(
    compose: dict[str, Any],
) -> None:
    services, environment = compose["services"], compose["services"]["gateway"]["environment"]
    store = make_url(environment["DEAL_DESK_DATABASE_URL"])
    events = make_url(environment["DEAL_DESK_EVENTS_URL"])
    assert (store.get_backend_name(), store.host, store.database) == (
        "postgresql", "postgres", services["postgres"]["environment"]["POSTGRES_DB"])
    assert store.username == services["postgres"]["environment"]["POSTGRES_USER"]
    assert store.password == services["postgres"]["environment"]["POSTGRES_PASSWORD"]  # the same ${...}
    assert (events.drivername, events.host) == ("redis", "redis")
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    collector = yaml.safe_load(compose["configs"]["otel-collector"]["content"])
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert services["otel-collector"]["profiles"] == ["tracing"]  # optional
    for dependency in ("postgres", "redis"):
        assert compose["services"]["gateway"]["depends_on"][dependency] == {"condition": "service_healthy"}
        assert services[dependency]["healthcheck"]["test"]


def test_every_variable_compose_reads_is_in_the_readme(compose: dict[str, Any]) -> None:
    documented = (ROOT / "README.md").read_text() + (ROOT / "docs" / "operations.md").read_text()
    read = set(INTERPOLATED.findall((ROOT / "compose.yaml").read_text()))
    assert read >= {"PORT", "POSTGRES_PASSWORD", "DEAL_DESK_AUTH_ISSUER"}
    assert {name for name in read if f"`{name}`" not in documented} == set()


def test_the_image_runs_as_a_numeric_non_root_user(dockerfile: DockerfileParser) -> None:
    [user] = [i["value"] for i in final_stage(dockerfile) if i["instruction"] == "USER"]
    uid, gid = (int(part) for part in user.split(":"))  # numeric: Kubernetes' runAsNonRoot checks it
    assert uid != 0 and gid != 0
    [created] = [i["value"] for i in final_stage(dockerfile) if i["instruction"] == "RUN"]
    assert f"--gid {gid}" in created and f"--uid {uid}" in created


def test_the_image_defaults_to_production_where_dev_auth_is_refused(
    dockerfile: DockerfileParser, tmp_path: Path,
) -> None:
    image_env = {k: v for k, v in dockerfile.envs.items() if k.startswith("DEAL_DESK_")}
    assert set(image_env) <= SETTINGS and image_env["DEAL_DESK_ENV"] == "production"
    values: dict[str, Any] = {k.removeprefix("DEAL_DESK_").lower(): v for k, v in image_env.items()}
    values["database_url"] = f"sqlite:///{tmp_path}/deal_desk.db"  # the image's /data is not here
    settings = Settings(**values, _env_file=None)  # type: ignore[call-arg]
    assert not settings.graphiql_enabled and not settings.introspection_enabled
    with pytest.raises(RuntimeError, match="dev auth refuses to run with DEAL_DESK_ENV=production"):
        create_app(settings)


def test_the_image_installs_the_locked_requirements_with_hashes(dockerfile: DockerfileParser) -> None:
    runs = " ".join(i["value"] for i in dockerfile.structure if i["instruction"] == "RUN")
    assert "--require-hashes --no-deps -r requirements/${REQUIREMENTS}.txt" in runs
    assert "REQUIREMENTS=serve" in [i["value"] for i in dockerfile.structure if i["instruction"] == "ARG"]
    for lock in ("serve", "databricks"):
        assert (ROOT / "requirements" / f"{lock}.txt").is_file()
    locked = (ROOT / "requirements" / "databricks.txt").read_text()
    assert "\ndatabricks-sql-connector==" in locked and "\npyarrow==" not in locked
    copied = [i["value"].split()[0] for i in dockerfile.structure if i["instruction"] == "COPY"
              and not i["value"].startswith("--from")]
    assert [source for source in copied if not (ROOT / source).exists()] == []

"""The Databricks stack is the `[databricks]` extra, loaded only for a databricks:// store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.core.settings import Settings

HEAVY = ("databricks", "pyarrow", "pandas", "numpy", "azure", "urllib3")
"""Top-level packages that only a Databricks store may load."""

# Runs in a fresh interpreter (this one has loaded the connector for other tests): the real app served
# by uvicorn over HTTP, one mutation and one query, then the loaded top-level packages among HEAVY.
SERVE_AND_LIST = """
import json, sys
import httpx
from auth.dev import issue_token
from gateway.app import create_app
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.server import serving

settings = Settings()
token = issue_token(settings, email="desk@x.test", roles=[Role.DEAL_DESK])
with serving(create_app(settings)) as server:
    post = lambda query: httpx.post(server.url + "/graphql", json={"query": query},
                                    headers={"authorization": "Bearer " + token}, timeout=30).json()
    answers = [post('mutation { createAdvertiser(input: {name: "Acme"}) { id } }'),
               post("{ me { id } deals(first: 5) { totalCount } }")]
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))
print(json.dumps({"answers": answers, "loaded": loaded}))
"""


def test_serving_a_request_loads_no_databricks_pyarrow_pandas_or_numpy(
    settings: Settings, tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")}
    env.update(DEAL_DESK_DATABASE_URL=settings.database_url, DEAL_DESK_LOG_LEVEL="WARNING",
               DEAL_DESK_DEV_KEY_FILE=str(settings.dev_key_path))
    done = subprocess.run([sys.executable, "-c", SERVE_AND_LIST, *HEAVY], env=env,
                          cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    created, read = report["answers"]
    assert "errors" not in created and created["data"]["createAdvertiser"]["id"]
    assert "errors" not in read and read["data"]["deals"]["totalCount"] == 0
    assert report["loaded"] == []


# `deal-desk migrate` in an interpreter where the [databricks] extra is not installed.
WITHOUT_EXTRA = """
import sys
from importlib.abc import MetaPathFinder

class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("databricks", "azure"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NotInstalled())
sys.argv = ["deal-desk", "migrate"]
from gateway.ops.cli import main
main()
"""


WAREHOUSE = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/w/x&catalog=c&schema=s"


@pytest.mark.parametrize(("variables", "needed_for"), [
    ({"DEAL_DESK_DATABASE_URL": WAREHOUSE}, "a databricks:// store"),
    ({"DEAL_DESK_DATABASE_URL": "postgresql://u@127.0.0.1:1/db", "DEAL_DESK_LAKEBASE_INSTANCE": "lb"},
     "DEAL_DESK_LAKEBASE_INSTANCE or _ENDPOINT"),
], ids=["warehouse", "lakebase"])
def test_without_the_extra_a_databricks_store_names_the_extra_to_install(
    variables: dict[str, str], needed_for: str, tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")} | variables
    done = subprocess.run([sys.executable, "-c", WITHOUT_EXTRA], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"error: {needed_for} needs the Databricks packages: "
                                   "pip install 'deal-desk-gateway[databricks]'")

"""launch(): real Meilisearch replicas with the index in each, the shared database, HAProxy; then
nothing left running.

No bot workers here (``workers=0``): the routing through HAProxy is tested on stand-in backends
(test_haproxy.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from pydantic import SecretStr

from deploy.launch import Topology, launch
from deploy.plan import DatabaseKind, make_plan
from deploy.postgres import find_bindir
from resolver.index_schema import LIVE_INDEX

pytestmark = pytest.mark.usefixtures("haproxy", "deploy_meili")


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A fresh run directory under /tmp (PostgreSQL's own user must reach it; pytest's is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="noziri-deploy-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def documents(url: str, master_key: SecretStr) -> int:
    """How many documents the live index of one replica holds."""
    headers = {"Authorization": f"Bearer {master_key.get_secret_value()}"}
    response = httpx.get(f"{url}/indexes/{LIVE_INDEX}/stats", headers=headers, trust_env=False)
    response.raise_for_status()
    return int(response.json()["numberOfDocuments"])


def table_names(database_url: str) -> set[str]:
    """The tables of the reports database."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def processes_using(run_dir: Path) -> list[int]:
    """Live processes whose command line or working directory is inside ``run_dir``."""
    found = []
    needle = str(run_dir)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if needle in command or cwd.startswith(needle):
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Tell whether a process exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pick_database(kind: DatabaseKind) -> DatabaseKind:
    """Skip a PostgreSQL case without its binaries (fail where CI requires it)."""
    if kind == "postgresql" and find_bindir() is None:
        if os.environ.get("NOZIRI_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL's binaries are missing", pytrace=False)
        pytest.skip("PostgreSQL's server binaries are not installed")
    return kind


async def replica_states(topo: Topology) -> list[str]:
    """Each replica's state in the status snapshot."""
    return [row.state for row in (await topo.status()).rows if row.role == "replica"]


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_launch_brings_up_replicas_and_database_and_leaves_no_process(
    run_dir: Path, kind: DatabaseKind
) -> None:
    plan = make_plan(workers=0, replicas=2, database=pick_database(kind), run_dir=run_dir)
    async with launch(plan) as topo:
        pids = topo.pids()
        running = processes_using(plan.run_dir)
        status = await topo.status()
        counts = [documents(url, topo.secrets.master_key) for url in topo.meili_urls]
        tables = table_names(topo.database_url)
    assert len(pids) == (4 if kind == "postgresql" else 3), "HAProxy, 2 replicas (+ PostgreSQL)"
    assert set(pids) <= set(running)
    assert {row.role: row.state for row in status.rows} == {
        "haproxy": "running",
        "replica": "available",
        "database": "running" if kind == "postgresql" else "file",
    }
    assert counts[0] == counts[1] > 0, "the same index published to both replicas"
    assert {"reports", "outbox", "alembic_version"} <= tables, "the schema is created once"
    assert [pid for pid in pids if alive(pid)] == []
    assert processes_using(plan.run_dir) == []


async def test_killed_replica_comes_back_on_its_port_with_its_index(tmp_path: Path) -> None:
    plan = make_plan(workers=0, replicas=2, database="sqlite", run_dir=tmp_path / "r")
    async with launch(plan) as topo:
        before = documents(topo.meili_urls[1], topo.secrets.master_key)
        await topo.kill_replica(1)
        while_dead = await replica_states(topo)
        await topo.start_replica(1)
        after = documents(topo.meili_urls[1], topo.secrets.master_key)
        back = await replica_states(topo)
    assert while_dead == ["available", "dead"]
    assert back == ["available", "available"]
    assert after == before > 0


def test_launch_without_a_bot_api_refuses_workers(tmp_path: Path) -> None:
    from deploy.launch import bot_api
    from deploy.processes import DeployError

    plan = make_plan(workers=1, replicas=1, database="sqlite", run_dir=tmp_path / "r")
    with pytest.raises(DeployError, match="api_root and token"):
        bot_api(plan, None, None)

"""launch(): real Meilisearch replicas with the index in each, the shared database, HAProxy; then
nothing left running.

No bot workers here (``workers=0``): the routing through HAProxy is tested on stand-in backends
(test_haproxy.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from pydantic import SecretStr

from bot.offline.fake_api import FakeBotApi, FakeUser
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


STANDIN = (sys.executable, "-m", "tests.deploy.standin_worker")
USERS = range(500, 530)


def update_from(user: int) -> dict[str, Any]:
    """A text message update from ``user``."""
    message = {"message_id": 1, "from": {"id": user}, "chat": {"id": user}, "text": "Айни 12"}
    return {"update_id": user, "message": message}


async def answered_by(topo: Topology, client: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    """Post one update per user through the front; what each answering worker said."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": topo.secret}
    answers = {}
    for user in USERS:
        response = await client.post(topo.webhook_url, json=update_from(user), headers=headers)
        assert response.status_code == 200, response.text
        answers[user] = response.json()
    return answers


async def test_workers_get_the_contract_and_survive_a_kill_behind_haproxy(run_dir: Path) -> None:
    plan = make_plan(workers=2, replicas=1, database="sqlite", run_dir=run_dir)
    api = {"api_root": "http://127.0.0.1:9", "token": "1:T"}
    async with launch(plan, **api, worker_command=STANDIN) as topo:
        context = ssl.create_default_context(cafile=str(topo.cafile))
        async with httpx.AsyncClient(verify=context, trust_env=False, timeout=5) as client:
            before = await answered_by(topo, client)
            forged = await client.post(topo.webhook_url, json=update_from(1))
            await topo.kill_worker(0)
            during = await answered_by(topo, client)  # before the checks noticed: retried
            await topo.wait_worker(0, up=False)
            dead = await topo.status()
            await topo.start_worker(0)
            back = await topo.status()
            after = await answered_by(topo, client)
        pids = topo.pids()
    ports = [worker.port for worker in plan.workers]
    assert {answer["port"] for answer in before.values()} == set(ports)
    assert next(iter(before.values())) | {"port": 0} == {
        "port": 0,
        "listen": "127.0.0.1",
        "webhook_url": topo.front_url,
        "shared_state": "database",
        "database": "sqlite",
        "replicas": 1,
        "cert_exists": True,
        "search_key": True,
        "api_root": "http://127.0.0.1:9",
    }
    assert forged.status_code == 403, "the worker's own secret check is reached"
    assert {answer["port"] for answer in during.values()} == {ports[1]}
    assert dead.workers_up() == ["worker1"]
    assert back.workers_up() == ["worker0", "worker1"]
    assert after == before, "the restarted worker gets its users back"
    assert processes_using(plan.run_dir) == []
    assert [pid for pid in pids if alive(pid)] == []


async def test_real_workers_answer_each_update_once_through_the_front_and_survive_a_kill(
    run_dir: Path,
) -> None:
    users = [FakeUser(id=700 + n, first_name="Resident", language_code="ru") for n in range(4)]
    async with FakeBotApi() as fake:
        plan = make_plan(workers=2, replicas=2, database="sqlite", run_dir=run_dir)
        async with launch(plan, api_root=fake.root, token=fake.token) as topo:
            context = ssl.create_default_context(cafile=str(topo.cafile))
            headers = {"X-Telegram-Bot-Api-Secret-Token": topo.secret}
            async with httpx.AsyncClient(verify=context, trust_env=False, timeout=10) as client:

                async def deliver(update: dict[str, Any]) -> int:
                    """Post one update as Telegram would; the sends it caused."""
                    mark = fake.mark()
                    response = await client.post(topo.webhook_url, json=update, headers=headers)
                    assert response.status_code == 200, response.text
                    return len(fake.reply_calls(mark))

                updates = [
                    {"update_id": 9000 + n, "message": fake.user_message(user, text="Айни 12")}
                    for n, user in enumerate(users)
                ]
                first = [await deliver(update) for update in updates]
                redelivered = [await deliver(update) for update in updates]
                await topo.kill_worker(0)
                later = [
                    {"update_id": 9100 + n, "message": fake.user_message(user, text="Рудаки 83")}
                    for n, user in enumerate(users)
                ]
                after_kill = [await deliver(update) for update in later]
    assert all(sends >= 1 for sends in first), "each update answered once its POST returned"
    assert redelivered == [0, 0, 0, 0], "a redelivered update is not answered again"
    assert all(sends >= 1 for sends in after_kill), "the killed worker's users still answered"
    assert processes_using(plan.run_dir) == []


async def test_a_start_cancelled_midway_leaves_no_process(run_dir: Path) -> None:
    plan = make_plan(workers=1, replicas=2, database="sqlite", run_dir=run_dir)

    async def run() -> None:
        async with launch(plan, api_root="http://127.0.0.1:9", token="1:T", worker_command=STANDIN):
            raise AssertionError("the start was to be cancelled before this")

    task = asyncio.create_task(run())
    while not processes_using(plan.run_dir) and not task.done():
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert processes_using(plan.run_dir) == []

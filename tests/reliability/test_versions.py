"""A running bot follows what the index builder publishes: new phones, moved places, rollback.

The bot runs as ``python -m bot`` in its own process, against the fake Bot API over HTTP, with
only ``MEILI_URL``, the search key and an EMPTY ``NOZIRI_SEED_DIR``: it answers from the
published data alone. A maintainer then edits a copy of the seed and rebuilds from it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.offline.fake_api import FakeBotApi, FakeUser
from index_builder.admin import MeiliAdmin
from index_builder.documents import build_documents
from index_builder.index_settings import index_settings
from index_builder.publish import BuildPlan, publish
from index_builder.published import published_data
from index_builder.seed.load import load_gazetteer
from resolver.meili import MeiliPublishedReader
from resolver.models import Status
from resolver.service import Resolver
from resolver.snapshots import Snapshots
from search_platform.connection import Endpoint
from search_platform.settings import PROJECT_ROOT
from tests.reliability.building import (
    SEED_DIR,
    admin_for,
    make_resolver,
    master_get,
    publish_seed,
)

pytestmark = pytest.mark.integration

USER = FakeUser(id=4242, first_name="Малика", language_code="ru")
FOLLOW_WITHIN_S = 10.0
VERSION_CHECK_S = 1.0


@dataclass(frozen=True)
class Roster:
    """Two places of the seed: one whose inspector's phone changes, one that moves sector."""

    phone_query: str
    old_phone: str
    moved_query: str
    moved_id: str
    old_officer: str
    new_sector: str
    new_officer: str


def resolved_single(resolver: Resolver, gazetteer_places: list[tuple[str, str]]) -> list[str]:
    """Place ids (with one sector) whose Russian name resolves to themselves."""
    found = []
    for place_id, name in gazetteer_places:
        answer = resolver.resolve(name)
        best = answer.best
        if answer.status is Status.RESOLVED and best and best.place_id == place_id and best.sector:
            found.append(place_id)
    return found


def pick_roster(resolver: Resolver) -> Roster:
    """Choose the place whose phone changes and the one that moves, from the published data."""
    data = resolver.pipeline.current().data
    links = {link.place_id: [] for link in data.links}
    for link in data.links:
        links[link.place_id].append(link)
    single = [
        (p.id, p.name_ru)
        for p in data.places
        if p.name_ru and len(links.get(p.id, [])) == 1 and not links[p.id][0].houses
    ]
    coordinates = {p.id for p in load_gazetteer(SEED_DIR).places if p.lat is not None}
    ids = resolved_single(resolver, single[:40])
    names = dict(single)
    phone_id = ids[0]
    moved_id = next(i for i in ids[1:] if i not in coordinates)
    sectors = {s.id: s for s in data.sectors}
    old_sector = sectors[links[moved_id][0].sector_id]
    phone_sector = sectors[links[phone_id][0].sector_id]
    new_sector = next(
        s
        for s in data.sectors
        if s.district == old_sector.district and s.id not in {old_sector.id, phone_sector.id}
    )
    return Roster(
        phone_query=names[phone_id],
        old_phone=phone_sector.officer.phone,
        moved_query=names[moved_id],
        moved_id=moved_id,
        old_officer=old_sector.officer.name_ru,
        new_sector=new_sector.id,
        new_officer=new_sector.officer.name_ru,
    )


def shown(phone: str) -> str:
    """The phone as the card shows it: the seed's readable form, as typed there."""
    return phone


def edit_seed(copy: Path, roster: Roster) -> str:
    """Change one inspector's phone and move one place to another sector; return the new phone."""
    sectors = copy / "sectors.yaml"
    text = sectors.read_text(encoding="utf-8")
    new_phone = next(
        f"+992 00 999 {a:02d} {b:02d}"
        for a in range(100)
        for b in range(100)
        if f"+992 00 999 {a:02d} {b:02d}" not in text
    )
    sectors.write_text(text.replace(roster.old_phone, new_phone), encoding="utf-8")
    links = copy / "links.yaml"
    lines = links.read_text(encoding="utf-8").splitlines()
    at = lines.index(f"- place_id: {roster.moved_id}")
    assert lines[at + 1].strip().startswith("sector_id:")
    lines[at + 1] = f"  sector_id: {roster.new_sector}"
    links.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return new_phone


async def run_command(*args: str, env: dict[str, str]) -> str:
    """Run ``python -m index_builder ...`` without blocking the loop the fake API serves on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "index_builder",
        *args,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = output.decode()
    assert process.returncode == 0, text
    return text


def clean_env() -> dict[str, str]:
    """The environment without any Meilisearch or Noziri setting of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "NOZIRI_"))}


@asynccontextmanager
async def bot_process(
    api: FakeBotApi, meili: Endpoint, key: SecretStr, *, live: str, workdir: Path
) -> AsyncIterator[Path]:
    """``python -m bot`` long polling ``api``, with no seed; yield the path of its log."""
    empty_seed = workdir / "no-seed"
    empty_seed.mkdir(exist_ok=True)
    log = workdir / "bot.log"
    env = clean_env() | {
        "PYTHONPATH": str(PROJECT_ROOT),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.root,
        "MEILI_URL": meili.url,
        "MEILI_SEARCH_KEY": key.get_secret_value(),
        "MEILI_INDEX": live,
        "NOZIRI_SEED_DIR": str(empty_seed),
        "NOZIRI_DATA_DIR": str(workdir),
        "NOZIRI_VERSION_CHECK_S": str(VERSION_CHECK_S),
    }
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=workdir, stdout=out, stderr=out
        )
        try:
            yield log
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=30)


async def ask(api: FakeBotApi, text: str, *, timeout: float = 20.0) -> str:
    """Send ``text`` and return the bot's reply text."""
    since = api.mark()
    api.send_text(USER, text)
    reply = await api.wait_for("sendMessage", since=since, chat_id=USER.id, timeout=timeout)
    return str(reply.params["text"])


async def until(api: FakeBotApi, text: str, wanted: str, *, within: float) -> float:
    """Ask ``text`` until the reply contains ``wanted``; return the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < within:
        if wanted in await ask(api, text):
            return time.perf_counter() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"the bot did not show {wanted!r} for {text!r} within {within} s")


@pytest.fixture
def versioned_live(meili: Endpoint) -> Iterator[tuple[str, SecretStr]]:
    """A live index of this test's own, with every index of its versions dropped afterwards."""
    live = f"noziri_ver_{uuid.uuid4().hex[:8]}"
    key = publish_seed(meili, live=live)
    yield live, key
    admin = admin_for(meili)
    for uid in admin.index_uids(prefix=live):
        admin.wait(admin.delete_index(uid))


def publish_incompatible(admin: MeiliAdmin, *, live: str) -> None:
    """Publish the seed as a version of a schema no resolver of today reads."""
    gazetteer = load_gazetteer(SEED_DIR)
    data = published_data(gazetteer)
    future = data.model_copy(
        update={"version": data.version.model_copy(update={"schema_version": 99})}
    )
    plan = BuildPlan(live=live, settings=index_settings(gazetteer))
    publish(admin, build_documents(gazetteer), plan, data=future)


async def test_running_bot_without_seed_follows_rebuild_rollback_and_refuses_a_bad_version(
    meili: Endpoint,
    versioned_live: tuple[str, SecretStr],
    tmp_path: Path,
    figures: dict[str, object],
) -> None:
    live, key = versioned_live
    resolver, backend = make_resolver(meili.url, key, live=live)
    try:
        roster = pick_roster(resolver)
    finally:
        backend.close()
    copy = tmp_path / "seed"
    shutil.copytree(SEED_DIR, copy)
    new_phone = edit_seed(copy, roster)
    assert meili.api_key is not None
    build_env = clean_env() | {
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.api_key.get_secret_value(),
        "NOZIRI_DATA_DIR": str(tmp_path),
    }
    async with (
        FakeBotApi() as api,
        bot_process(api, meili, key, live=live, workdir=tmp_path) as log,
    ):
        card = await ask(api, roster.phone_query, timeout=60)  # the bot's start-up included
        assert shown(roster.old_phone) in card, card
        assert "Данные от" in await ask(api, "/about")
        assert roster.old_officer in await ask(api, roster.moved_query)

        await run_command("build", str(copy), "--index", live, "--quiet", env=build_env)
        phone_s = await until(api, roster.phone_query, shown(new_phone), within=FOLLOW_WITHIN_S)
        moved = await ask(api, roster.moved_query)
        assert roster.new_officer in moved and roster.old_officer not in moved, moved
        status = await run_command("status", "--index", live, env=build_env)
        assert "live: version" in status and "previous: version" in status, status

        await run_command("rollback", "--index", live, env=build_env)
        back_s = await until(
            api, roster.phone_query, shown(roster.old_phone), within=FOLLOW_WITHIN_S
        )
        assert roster.old_officer in await ask(api, roster.moved_query)

        publish_incompatible(admin_for(meili), live=live)
        await asyncio.sleep(3 * VERSION_CHECK_S)
        still = await ask(api, roster.phone_query)
        assert shown(roster.old_phone) in still, still
        assert "refused published version" in log.read_text(encoding="utf-8")
    figures["versions: rebuild to the bot showing the new phone, s"] = round(phone_s, 2)
    figures["versions: rollback to the bot showing the old phone, s"] = round(back_s, 2)
    figures["versions: date"] = f"{datetime.now(UTC):%Y-%m-%d}"


def test_the_bot_and_the_resolver_import_nothing_of_the_builder_or_the_seed() -> None:
    code = (
        "import sys, bot.__main__, bot.adapters, resolver.bootstrap, resolver.snapshots;"
        "bad = [m for m in sys.modules if m.startswith('index_builder')];"
        "assert not bad, bad"
    )
    env = clean_env() | {"PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def swap_finished_at(meili: Endpoint) -> datetime:
    """When the newest index swap finished, by the server's clock (the same machine's)."""
    task = master_get(meili, "/tasks", types="indexSwap", statuses="succeeded", limit=1)["results"][
        0
    ]
    return datetime.fromisoformat(str(task["finishedAt"]).replace("Z", "+00:00"))


def test_a_watching_resolver_switches_within_one_check_interval_of_the_swap(
    meili: Endpoint,
    versioned_live: tuple[str, SecretStr],
    tmp_path: Path,
    figures: dict[str, object],
) -> None:
    live, key = versioned_live
    reader = MeiliPublishedReader(meili.url, api_key=key.get_secret_value(), live=live)
    snapshots = Snapshots.load(reader)
    before = snapshots.current().version.version
    snapshots.watch(VERSION_CHECK_S)
    copy = tmp_path / "seed"
    shutil.copytree(SEED_DIR, copy)
    try:
        publish_seed(meili, live=live, seed_dir=copy)
        deadline = time.monotonic() + 3 * VERSION_CHECK_S + 5
        while snapshots.current().version.version == before and time.monotonic() < deadline:
            time.sleep(0.005)
        switched = datetime.now(UTC)
    finally:
        snapshots.close()
        reader.close()
    assert snapshots.current().version.version != before, "the watcher never switched"
    lag = (switched - swap_finished_at(meili)).total_seconds()
    assert lag < VERSION_CHECK_S + 2
    figures[
        f"versions: swap to a watching resolver serving it (check every {VERSION_CHECK_S} s), s"
    ] = round(lag, 2)

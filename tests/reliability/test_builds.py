"""Builds that fail: killed halfway, cut off during the upload, or fed a corrupt seed.

Whatever happens to a build, the live index keeps serving the previous data, and a seed that does
not validate pushes nothing at all.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from index_builder.admin import MeiliAdmin, RetryPolicy
from resolver.bootstrap import meili_backend, open_snapshots
from resolver.errors import NoziriError
from resolver.meili import MeiliBackend
from resolver.service import Resolver
from search_platform.connection import Endpoint
from search_platform.settings import PROJECT_ROOT, MeiliSettings
from tests.reliability.building import (
    SEED_DIR,
    Answer,
    ThreadedLoad,
    admin_for,
    answer,
    make_resolver,
    master_get,
    publish_seed,
    publish_seed_with,
    seed_names,
)
from tests.reliability.proxy import SlowProxy

pytestmark = pytest.mark.integration

BUILD_TIMEOUT_S = 180
KILL_WAIT_S = 120


def live_snapshot(endpoint: Endpoint, live: str) -> list[dict[str, Any]]:
    """Every document of the live index, as Meilisearch returns them, sorted by id.

    The build stamp (``version``) is left out: the same seed built again gives the same
    documents under a new version id.
    """
    documents = master_get(endpoint, f"/indexes/{live}/documents", limit=100_000)["results"]
    unstamped = [{k: v for k, v in d.items() if k != "version"} for d in documents]
    return sorted(unstamped, key=lambda document: str(document["id"]))


def build_indexes(endpoint: Endpoint, live: str) -> list[str]:
    """Temporary build indexes of ``live`` that still exist."""
    indexes = master_get(endpoint, "/indexes", limit=1000)["results"]
    return [i["uid"] for i in indexes if i["uid"].startswith(f"{live}_build_")]


def latest_task(endpoint: Endpoint) -> int:
    """The uid of the newest task on the server (-1 if none): a change means something was sent."""
    results = master_get(endpoint, "/tasks", limit=1)["results"]
    return int(results[0]["uid"]) if results else -1


@dataclass
class LiveIndex:
    """A live index of this test's own, with a resolver on it and its answers before the fault."""

    endpoint: Endpoint
    name: str
    resolver: Resolver
    backend: MeiliBackend
    documents: list[dict[str, Any]]
    answers: list[Answer]

    def observe(self) -> tuple[list[dict[str, Any]], list[Answer]]:
        """The live documents and the answers to the probe names, now."""
        answers = [answer(self.resolver, self.backend, name) for name in seed_names(count=5)]
        return live_snapshot(self.endpoint, self.name), answers

    def unchanged(self) -> bool:
        """Tell whether the live index serves exactly what it served before the fault."""
        return self.observe() == (self.documents, self.answers)


@contextmanager
def fresh_live(meili: Endpoint) -> Iterator[LiveIndex]:
    """Publish the seed as a fresh live index; drop it and any build leftovers afterwards."""
    name = f"noziri_build_{uuid.uuid4().hex[:8]}"
    key = publish_seed(meili, live=name)
    resolver, backend = make_resolver(meili.url, key, live=name)
    live = LiveIndex(meili, name, resolver, backend, [], [])
    live.documents, live.answers = live.observe()
    try:
        yield live
    finally:
        backend.close()
        admin = admin_for(meili)
        for uid in admin.index_uids(prefix=name):  # the live pair, the previous one, leftovers
            admin.wait(admin.delete_index(uid))


@pytest.fixture
def own_live(meili: Endpoint) -> Iterator[LiveIndex]:
    """A live index for one test."""
    with fresh_live(meili) as live:
        yield live


@pytest.fixture(scope="module")
def shared_live(meili: Endpoint) -> Iterator[LiveIndex]:
    """One live index for the corrupt-seed cases, which must all leave it as it is."""
    with fresh_live(meili) as live:
        yield live


def build_command(
    endpoint: Endpoint, *, live: str, data_dir: Path, seed_dir: Path = SEED_DIR, url: str = ""
) -> tuple[list[str], dict[str, str]]:
    """``python -m index_builder build`` and its environment, for ``live`` on ``endpoint``."""
    assert endpoint.api_key is not None
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "NOZIRI_"))}
    env = clean | {
        "MEILI_URL": url or endpoint.url,
        "MEILI_MASTER_KEY": endpoint.api_key.get_secret_value(),
        "NOZIRI_DATA_DIR": str(data_dir),
    }
    command = [sys.executable, "-m", "index_builder", "build", str(seed_dir)]
    return [*command, "--index", live, "--quiet", "--batch-size", "25"], env


def wait_for(condition: Callable[[], bool], *, timeout: float) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def uploading(endpoint: Endpoint, live: str, *, after: int) -> bool:
    """Tell whether a build of ``live`` has sent documents (in a task newer than ``after``)."""
    tasks = master_get(endpoint, "/tasks", types="documentAdditionOrUpdate", limit=50)["results"]
    return any(
        task["uid"] > after and str(task.get("indexUid", "")).startswith(f"{live}_build_")
        for task in tasks
    )


# --- killed halfway ----------------------------------------------------------------------


def test_build_killed_during_upload_leaves_live_index_serving_previous_data(
    meili: Endpoint, own_live: LiveIndex, tmp_path: Path, figures: dict[str, Any]
) -> None:
    proxy = SlowProxy(meili.url, delay_s=0.05).start()  # so that the upload takes a while
    command, env = build_command(meili, live=own_live.name, data_dir=tmp_path, url=proxy.url)
    newest = latest_task(meili)
    build = subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        started = wait_for(
            lambda: uploading(meili, own_live.name, after=newest), timeout=KILL_WAIT_S
        )
        alive_at_kill = build.poll() is None
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
        proxy.stop()
    assert started and alive_at_kill, "the build was not caught during its upload"
    assert build.returncode == -signal.SIGKILL
    assert own_live.unchanged()
    leftovers = build_indexes(meili, own_live.name)
    figures["build SIGKILLed mid-upload: live index unchanged"] = "yes"
    figures["build SIGKILLed mid-upload: temporary indexes left"] = len(leftovers)

    command, env = build_command(meili, live=own_live.name, data_dir=tmp_path)
    after = subprocess.run(
        command,
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert after.returncode == 0, after.stdout + after.stderr
    assert own_live.unchanged()  # the same seed again: the same answers
    figures["temporary indexes left after the next build"] = len(
        build_indexes(meili, own_live.name)
    )


# --- cut off during the upload -----------------------------------------------------------


def test_build_cut_off_during_upload_leaves_live_index_serving_previous_data(
    meili: Endpoint, own_live: LiveIndex
) -> None:
    proxy = SlowProxy(meili.url).start()
    proxy.cut_prefixes = tuple(
        f"{verb} /indexes/{own_live.name}_build_".encode() for verb in ("POST", "PUT")
    )
    quick = RetryPolicy(attempts=3, seconds=5, first_wait_s=0.05, max_wait_s=0.2)
    assert meili.api_key is not None
    cut = MeiliAdmin(proxy.url, api_key=meili.api_key.get_secret_value(), retry=quick)
    try:
        with pytest.raises(NoziriError):
            publish_seed_with(cut, live=own_live.name)
    finally:
        proxy.stop()
    assert proxy.cut > 0, "the upload was never cut off: the test proved nothing"
    assert own_live.unchanged()
    assert build_indexes(meili, own_live.name) == [], "the failed build left its index behind"


# --- a corrupt or half-edited seed -------------------------------------------------------


def truncate(path: Path, fraction: float) -> None:
    """Cut a file off part-way, as an editor crash or a bad merge would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def append(path: Path, text: str) -> None:
    """Add text at the end of a file."""
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def duplicate_first_place(path: Path) -> None:
    """Paste the first place again at the end (a duplicate id)."""
    text = path.read_text(encoding="utf-8")
    first = text[text.index("- id: ") :].split("\n\n")[0]
    path.write_text(text + "\n" + first + "\n", encoding="utf-8")


# File-level damage (tests/integration/test_index_build.py covers a link to an unknown sector;
# tests/unit/test_seed_validate.py every rule the validator applies).
CORRUPTIONS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "yaml syntax error": ("places.yaml", lambda p: append(p, "\n- id: [broken\n  kind: :\n")),
    "half-written places": ("places.yaml", lambda p: truncate(p, 0.6)),
    "half-written polygons": ("sectors.geojson", lambda p: truncate(p, 0.5)),
    "duplicate place id": ("places.yaml", duplicate_first_place),
    "unknown field": ("sectors.yaml", lambda p: append(p, "\n  colour: red\n")),
    "missing file": ("sectors.yaml", lambda p: p.unlink()),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_seed_is_refused_with_errors_and_nothing_is_pushed(
    meili: Endpoint, shared_live: LiveIndex, tmp_path: Path, case: str
) -> None:
    seed = tmp_path / "seed"
    subprocess.run(["cp", "-r", str(SEED_DIR), str(seed)], check=True)
    file_name, corrupt = CORRUPTIONS[case]
    corrupt(seed / file_name)
    newest = latest_task(meili)
    command, env = build_command(meili, live=shared_live.name, data_dir=tmp_path, seed_dir=seed)
    done = subprocess.run(
        command,
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    assert file_name in output, f"the error does not name {file_name}:\n{output}"
    assert latest_task(meili) == newest, "the build sent something to Meilisearch"
    assert shared_live.unchanged()


# --- rebuilds with a roster change under load --------------------------------------------


class VersionedLoad(ThreadedLoad):
    """Threads resolving names through a resolver that follows the published version.

    Every answer must be wholly one version's: equal to the answer of the old seed or to the
    answer of the edited one (every inspector's phone changed), never a mix, never an error.
    """

    def __init__(self, resolver: Resolver, names: list[str], answers: list[dict[str, object]]):
        self.resolver = resolver
        self.names = names
        self.answers = answers
        self.counts = {"queries": 0, "old": 0, "new": 0}
        super().__init__(threads=4)

    def work(self) -> None:
        """Resolve the names round and round until told to stop."""
        while not self.stop.is_set():
            for name in self.names:
                self.record(name, self.attempt(name))

    def attempt(self, name: str) -> object:
        """One resolution, or the error it raised."""
        try:
            return self.resolver.resolve(name)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    def record(self, name: str, observed: object) -> None:
        """Count which version answered, or a failure."""
        with self.lock:
            self.counts["queries"] += 1
            if observed == self.answers[0][name]:
                self.counts["old"] += 1
            elif observed == self.answers[1][name]:
                self.counts["new"] += 1
            else:
                self.failures.append(f"{name}: neither version's answer: {observed}")


def seed_with_new_phones(target: Path) -> Path:
    """A copy of the seed where every inspector's phone is another one (a roster change)."""
    shutil.copytree(SEED_DIR, target)
    sectors = target / "sectors.yaml"
    text = sectors.read_text(encoding="utf-8")
    # Swapping the last two groups keeps the phones valid and distinct: +992 00 401 29 11.
    swapped = re.sub(r"(phone: \+992 00 \d{3}) (\d{2}) (\d{2})", r"\1 \3 \2", text)
    sectors.write_text(swapped, encoding="utf-8")
    return target


def following_resolver(meili: Endpoint, key: SecretStr, live: str) -> tuple[Resolver, Any]:
    """A resolver on ``live`` that follows new versions, checking every 0.5 s."""
    settings = MeiliSettings(
        meili_url=meili.url, meili_search_key=key, meili_index=live, noziri_version_check_s=0.5
    )
    endpoint = Endpoint(url=meili.url, api_key=key)
    snapshots = open_snapshots(settings, endpoint)
    backend = meili_backend(settings, endpoint)
    return Resolver(backend, snapshots.__enter__()), (snapshots, backend)


def test_rebuilds_with_a_roster_change_under_load_give_wholly_old_or_new_answers(
    meili: Endpoint, own_live: LiveIndex, tmp_path: Path, figures: dict[str, Any]
) -> None:
    edited = seed_with_new_phones(tmp_path / "seed")
    names = seed_names(count=8)
    admin = admin_for(meili)
    key = publish_seed(meili, live=own_live.name, seed_dir=edited)
    new_answers = {
        name: make_resolver(meili.url, key, live=own_live.name)[0].resolve(name) for name in names
    }
    publish_seed(meili, live=own_live.name)
    old_answers = {name: own_live.resolver.resolve(name) for name in names}
    assert old_answers != new_answers, (
        "the roster change changes no answer: the test proves nothing"
    )
    resolver, (snapshots, backend) = following_resolver(meili, key, own_live.name)
    try:
        load = VersionedLoad(resolver, names, [old_answers, new_answers])
        with load:
            for round_ in range(4):
                publish_seed_with(
                    admin, live=own_live.name, seed_dir=edited if round_ % 2 == 0 else SEED_DIR
                )
    finally:
        snapshots.__exit__(None, None, None)
        backend.close()
    assert load.failures == []
    assert load.counts["old"] > 0 and load.counts["new"] > 0, load.counts
    figures["roster rebuilds under load: queries"] = load.counts["queries"]
    figures["roster rebuilds under load: failed or mixed answers"] = len(load.failures)
    figures["roster rebuilds under load: old / new answers"] = (
        f"{load.counts['old']} / {load.counts['new']}"
    )

"""Builds that fail: killed halfway, cut off during the upload, or fed a corrupt seed.

Whatever happens to a build, the live index keeps serving the previous data, and a seed that does
not validate pushes nothing at all.
"""

from __future__ import annotations

import os
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

from index_builder.admin import MeiliAdmin, RetryPolicy
from resolver.errors import NoziriError
from resolver.meili import MeiliBackend
from resolver.service import Resolver
from search_platform.connection import Endpoint
from search_platform.settings import PROJECT_ROOT
from tests.reliability.building import (
    SEED_DIR,
    Answer,
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
    """Every document of the live index, as Meilisearch returns them, sorted by id."""
    documents = master_get(endpoint, f"/indexes/{live}/documents", limit=100_000)["results"]
    return sorted(documents, key=lambda document: str(document["id"]))


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
        for uid in [name, *build_indexes(meili, name)]:
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

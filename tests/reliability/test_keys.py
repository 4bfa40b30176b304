"""Keys: the search-only key the index builder hands to the bot and the resolver can search and
nothing else, and the master key never shows up in logs, errors or a failing command's output.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from index_builder.admin import MeiliAdmin, RetryPolicy
from resolver.backend import SearchQuery
from resolver.errors import NoziriError
from resolver.meili import MeiliBackend
from resolver.service import AwaitingResolver
from search_platform.connection import Endpoint
from search_platform.process import free_port
from search_platform.settings import PROJECT_ROOT
from tests.reliability.building import SEED_DIR, make_resolver, master_get
from tests.reliability.proxy import SlowProxy

pytestmark = pytest.mark.integration

COMMAND_TIMEOUT_S = 120


@dataclass(frozen=True)
class Attempt:
    """What a thief holding the search key would try; ``{live}`` stands for the live index."""

    action: str
    method: str
    path: str
    body: Any


# Adding documents and reading /keys are covered by tests/integration (test_index_build.py,
# test_platform.py); everything else a stolen search key could try is here.
FORBIDDEN = [
    Attempt(
        "replace documents", "PUT", "/indexes/{live}/documents", [{"id": "evil", "place_id": "x"}]
    ),
    Attempt("delete all documents", "DELETE", "/indexes/{live}/documents", None),
    Attempt("delete one document", "DELETE", "/indexes/{live}/documents/evil", None),
    Attempt(
        "change settings", "PATCH", "/indexes/{live}/settings", {"searchableAttributes": ["id"]}
    ),
    Attempt("reset settings", "DELETE", "/indexes/{live}/settings", None),
    Attempt("change synonyms", "PUT", "/indexes/{live}/settings/synonyms", {"a": ["b"]}),
    Attempt("delete the index", "DELETE", "/indexes/{live}", None),
    Attempt("rename the index", "PATCH", "/indexes/{live}", {"primaryKey": "place_id"}),
    Attempt("create an index", "POST", "/indexes", {"uid": "noziri_evil"}),
    Attempt("swap indexes", "POST", "/swap-indexes", [{"indexes": ["{live}", "noziri_evil"]}]),
    Attempt(
        "create a key", "POST", "/keys", {"actions": ["*"], "indexes": ["*"], "expiresAt": None}
    ),
    Attempt("read the tasks", "GET", "/tasks", None),
    Attempt("cancel tasks", "POST", "/tasks/cancel?statuses=enqueued", None),
    Attempt("read all documents", "GET", "/indexes/{live}/documents", None),
    Attempt("create a dump", "POST", "/dumps", None),
    Attempt("create a snapshot", "POST", "/snapshots", None),
]


def fill(value: Any, live: str) -> Any:
    """Put the live index name into a path or body."""
    if isinstance(value, str):
        return value.replace("{live}", live)
    if isinstance(value, list):
        return [fill(item, live) for item in value]
    if isinstance(value, dict):
        return {name: fill(item, live) for name, item in value.items()}
    return value


def state_of(endpoint: Endpoint, live: str) -> tuple[Any, ...]:
    """What a thief would like to change: documents, settings, indexes, keys."""
    return (
        master_get(endpoint, f"/indexes/{live}/stats")["numberOfDocuments"],
        master_get(endpoint, f"/indexes/{live}/settings"),
        sorted(i["uid"] for i in master_get(endpoint, "/indexes", limit=1000)["results"]),
        sorted(k["uid"] for k in master_get(endpoint, "/keys", limit=1000)["results"]),
    )


# --- the search-only key -----------------------------------------------------------------


def test_search_key_searches_the_live_index(
    meili: Endpoint, live_index: tuple[str, SecretStr]
) -> None:
    live, key = live_index
    response = httpx.post(
        f"{meili.url}/indexes/{live}/search",
        json={"q": "рудаки"},
        headers={"Authorization": f"Bearer {key.get_secret_value()}"},
    )
    assert response.status_code == httpx.codes.OK
    assert response.json()["hits"]


@pytest.mark.parametrize("attempt", FORBIDDEN, ids=[a.action for a in FORBIDDEN])
def test_search_key_is_refused_every_admin_action(
    meili: Endpoint, live_index: tuple[str, SecretStr], attempt: Attempt
) -> None:
    live, key = live_index
    before = state_of(meili, live)
    response = httpx.request(
        attempt.method,
        meili.url + fill(attempt.path, live),
        json=fill(attempt.body, live),
        headers={"Authorization": f"Bearer {key.get_secret_value()}"},
    )
    assert response.status_code == httpx.codes.FORBIDDEN, f"{attempt.action}: {response.text}"
    assert response.json()["code"] == "invalid_api_key"
    assert state_of(meili, live) == before


def authorization_headers(heads: list[bytes]) -> list[str]:
    """The Authorization header of each recorded request head, "" when it had none."""
    found = []
    for head in heads:
        lines = head.decode("latin-1").split("\r\n")[1:]
        values = [
            v.strip()
            for n, _, v in (x.partition(":") for x in lines)
            if n.lower() == "authorization"
        ]
        found.append(values[0] if len(values) == 1 else "")
    return found


def test_the_resolver_sends_the_search_key_and_nothing_else(
    meili: Endpoint, live_index: tuple[str, SecretStr]
) -> None:
    """On the wire, through both adapters: the blocking one (CLI) and the awaited one (bot)."""
    live, key = live_index
    proxy = SlowProxy(meili.url).start()
    resolver, backend = make_resolver(proxy.url, key, live=live)
    search = backend.asynchronous()

    async def resolve_awaiting() -> None:
        try:
            await AwaitingResolver(search, resolver.pipeline).resolve("Рудаки 45")
        finally:
            await search.aclose()

    try:
        resolver.resolve("Рудаки 45")
        asyncio.run(resolve_awaiting())
    finally:
        backend.close()
        proxy.stop()
    seen = authorization_headers(proxy.request_heads)
    assert len(seen) >= 2 and set(seen) == {f"Bearer {key.get_secret_value()}"}


# --- the master key stays secret ---------------------------------------------------------


def run_command(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> ...`` with ``env`` added, capturing everything it prints."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "NOZIRI_"))}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=clean | env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def dead_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


MASTER = "MASTER-" + "k" * 40  # distinctive, so that any echo is found


@pytest.mark.parametrize(
    ("case", "url"),
    [("nothing listens", "dead"), ("wrong master key", "live")],
)
def test_failing_build_never_prints_the_master_key(
    meili: Endpoint, tmp_path: Path, case: str, url: str
) -> None:
    env = {
        "MEILI_URL": dead_url() if url == "dead" else meili.url,
        "MEILI_MASTER_KEY": MASTER,
        "MEILI_INDEX": "noziri_keys_probe",
        "NOZIRI_DATA_DIR": str(tmp_path),
        "NOZIRI_SEED_DIR": str(SEED_DIR),
    }
    done = run_command("index_builder", "build", env=env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert MASTER not in output
    assert "Traceback" not in output, output


def test_failing_resolver_never_prints_the_keys(tmp_path: Path) -> None:
    search = "SEARCH-" + "s" * 40
    env = {
        "MEILI_URL": dead_url(),
        "MEILI_MASTER_KEY": MASTER,
        "MEILI_SEARCH_KEY": search,
        "NOZIRI_DATA_DIR": str(tmp_path),
    }
    done = run_command("resolver", "Рудаки 45", env=env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert MASTER not in output and search not in output
    assert "Traceback" not in output, output


def rendered(records: list[logging.LogRecord]) -> str:
    """Everything the log records would print, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)


def exception_chain(error: BaseException) -> str:
    """The messages and reprs of an exception and every cause behind it."""
    parts = []
    current: BaseException | None = error
    while current is not None:
        parts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def test_admin_errors_and_debug_logs_never_hold_the_master_key(
    meili: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    quick = RetryPolicy(attempts=2, seconds=2, first_wait_s=0.01, max_wait_s=0.05)
    errors: list[BaseException] = []
    for url in (dead_url(), meili.url):  # unreachable, then refused (wrong key)
        admin = MeiliAdmin(url, api_key=MASTER, retry=quick, timeout_s=5)
        with pytest.raises(NoziriError) as caught:
            admin.list_keys()
        errors.append(caught.value)
    text = rendered(caplog.records) + "".join(exception_chain(e) for e in errors)
    assert MASTER not in text
    assert caplog.records, "DEBUG logging captured nothing: the test would prove nothing"


def test_resolver_errors_and_debug_logs_never_hold_the_key(
    meili: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    for url in (dead_url(), meili.url):  # unreachable, then refused (wrong key)
        backend = MeiliBackend(url, api_key=MASTER, index="noziri_places", timeout_s=1.0)
        try:
            with pytest.raises(NoziriError) as caught:
                backend.search_many([SearchQuery(text="рудаки")])
            errors.append(caught.value)
        finally:
            backend.close()
    text = rendered(caplog.records) + "".join(exception_chain(e) for e in errors)
    assert MASTER not in text

"""The builder's retries against a scripted stand-in server on 127.0.0.1 (no Meilisearch needed).

Transient failures (5xx, dropped connections) are retried within a bound; refusals (4xx) are
not; a swap whose answer was lost is looked up, never sent twice (that would undo it).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from index_builder.admin import MeiliAdmin, MeiliRefusedError, RetryPolicy

FAST = RetryPolicy(attempts=4, seconds=10, first_wait_s=0.01, max_wait_s=0.05)
SWAP_TASK = {
    "uid": 77,
    "indexUid": None,
    "status": "enqueued",
    "type": "indexSwap",
    "details": {"swaps": [{"indexes": ["live", "fresh"]}]},
    "enqueuedAt": "2026-11-29T10:00:00.000000Z",
}

Script = Callable[["StubHandler"], None]


class StubHandler(BaseHTTPRequestHandler):
    """Answers each request with the next step of the server's script."""

    server: StubServer

    def do_GET(self) -> None:
        """Run the script for a GET."""
        self.server.handle_scripted(self)

    def do_POST(self) -> None:
        """Run the script for a POST."""
        self.server.handle_scripted(self)

    def reply(self, status: int, body: object) -> None:
        """Send a JSON answer."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without answering (a lost response)."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


class StubServer(ThreadingHTTPServer):
    """A loopback HTTP server that records requests and answers from a script."""

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.script = script
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_scripted(self, handler: StubHandler) -> None:
        """Record the request, then let the script answer it."""
        length = int(handler.headers.get("Content-Length") or 0)
        handler.rfile.read(length)
        with self.lock:
            self.requests.append((handler.command, handler.path.split("?")[0]))
        self.script(handler)

    def count(self, method: str, path: str) -> int:
        """Count the requests seen for one route."""
        return sum(1 for request in self.requests if request == (method, path))


@pytest.fixture
def stub() -> Iterator[Callable[[Script], StubServer]]:
    """Start stub servers with a script; stop them after the test."""
    servers: list[StubServer] = []

    def start(script: Script) -> StubServer:
        server = StubServer(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_5xx_answers_are_retried_until_the_server_recovers(
    stub: Callable[[Script], StubServer],
) -> None:
    def script(handler: StubHandler) -> None:
        if len(handler.server.requests) <= 2:
            handler.reply(503, {"message": "busy", "code": "internal"})
        else:
            handler.reply(200, {"uid": "places", "primaryKey": "id"})

    server = stub(script)
    admin = MeiliAdmin(server.url, api_key="k", retry=FAST)
    assert admin.index_exists("places")
    assert server.count("GET", "/indexes/places") == 3


def test_retries_stop_at_the_attempt_bound(stub: Callable[[Script], StubServer]) -> None:
    server = stub(lambda handler: handler.reply(502, {"message": "bad gateway"}))
    admin = MeiliAdmin(server.url, api_key="k", retry=FAST)
    with pytest.raises(match="HTTP 502"):
        admin.index_exists("places")
    assert server.count("GET", "/indexes/places") == FAST.attempts


def test_a_refusal_is_not_retried(stub: Callable[[Script], StubServer]) -> None:
    server = stub(
        lambda handler: handler.reply(403, {"message": "bad key", "code": "invalid_api_key"})
    )
    admin = MeiliAdmin(server.url, api_key="wrong", retry=FAST)
    with pytest.raises(MeiliRefusedError, match="invalid_api_key"):
        admin.index_exists("places")
    assert len(server.requests) == 1


def test_a_swap_whose_answer_was_lost_is_not_sent_twice(
    stub: Callable[[Script], StubServer],
) -> None:
    swaps_received: list[int] = []

    def script(handler: StubHandler) -> None:
        path = handler.path.split("?")[0]
        if handler.command == "POST" and path == "/swap-indexes":
            swaps_received.append(SWAP_TASK["uid"])  # type: ignore[arg-type]
            handler.drop()  # the swap is queued, but its answer never arrives
        elif path == "/tasks":
            results = [SWAP_TASK] if swaps_received else []
            handler.reply(
                200,
                {
                    "results": results,
                    "total": len(results),
                    "limit": 20,
                    "from": None,
                    "next": None,
                },
            )
        else:
            handler.reply(404, {"message": "unexpected", "code": "not_found"})

    server = stub(script)
    admin = MeiliAdmin(server.url, api_key="k", retry=FAST)
    assert admin.swap_indexes("live", "fresh") == SWAP_TASK["uid"]
    assert server.count("POST", "/swap-indexes") == 1


def test_an_unreachable_server_fails_within_the_time_bound() -> None:
    admin = MeiliAdmin("http://127.0.0.1:9", api_key="k", retry=FAST)
    with pytest.raises(match="check that it runs"):
        admin.count_documents("places")


def test_a_wrong_master_key_says_which_setting_to_fix(
    stub: Callable[[Script], StubServer],
) -> None:
    server = stub(
        lambda handler: handler.reply(403, {"message": "invalid", "code": "invalid_api_key"})
    )
    admin = MeiliAdmin(server.url, api_key="wrong", retry=FAST)
    with pytest.raises(MeiliRefusedError, match="MEILI_MASTER_KEY"):
        admin.count_documents("places")

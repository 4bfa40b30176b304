"""A tiny delaying TCP proxy on 127.0.0.1, to make a real Meilisearch slow (or cut off) on demand.

Every chunk a client sends waits ``delay_s`` before it is forwarded. The proxy counts requests in
flight (a chunk received whose answer has not started coming back) and keeps the maximum, which is
what "requests do not pile up" is measured with. Requests whose first bytes start with one of
``cut_prefixes`` (e.g. ``b"POST /indexes/x/documents"``) are cut off: the connection closes without
an answer, as when the network breaks halfway through an upload. The head (request line and
headers) of every request is kept in ``request_heads``, to check what clients send on the wire.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

CHUNK = 65_536


@dataclass
class InFlight:
    """A thread-safe gauge with its high-water mark."""

    current: int = 0
    peak: int = 0
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> None:
        """Count one more request in flight."""
        with self.lock:
            self.current += 1
            self.total += 1
            self.peak = max(self.peak, self.current)

    def leave(self) -> None:
        """Count one request answered (or abandoned)."""
        with self.lock:
            self.current -= 1


class SlowProxy:
    """Forward 127.0.0.1:<port> to ``upstream_url``, delaying requests by ``delay_s``."""

    def __init__(self, upstream_url: str, *, delay_s: float = 0.0) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.delay_s = delay_s
        self.cut_prefixes: tuple[bytes, ...] = ()  # requests starting so are cut off
        self.cut = 0
        self.in_flight = InFlight()
        self.connections = InFlight()
        self.request_heads: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopping = threading.Event()
        self._gate = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> SlowProxy:
        """Start accepting connections."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting; open connections end when their peers close."""
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self.connections.enter()
        pending = threading.Event()  # set while a request waits for its answer
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            client.close()
            self.connections.leave()
            return
        back = threading.Thread(
            target=self._pipe_back, args=(upstream, client, pending), daemon=True
        )
        back.start()
        self._pipe_forward(client, upstream, pending)
        back.join(timeout=30)
        self.connections.leave()

    def _pipe_forward(
        self, client: socket.socket, upstream: socket.socket, pending: threading.Event
    ) -> None:
        """Client -> upstream, each chunk delayed; a new request enters the in-flight count."""
        with contextlib.suppress(OSError):
            while chunk := client.recv(CHUNK):
                if chunk.startswith(self.cut_prefixes) and self.cut_prefixes:
                    self.cut += 1
                    break  # the network breaks: the connection is closed without an answer
                if not pending.is_set():  # the first chunk of a request holds its head
                    self.request_heads.append(chunk.partition(b"\r\n\r\n")[0])
                self._open(pending)
                time.sleep(self.delay_s)
                upstream.sendall(chunk)
        self._settle(pending)
        close_both(client, upstream)

    def _pipe_back(
        self, upstream: socket.socket, client: socket.socket, pending: threading.Event
    ) -> None:
        """Upstream -> client; the first bytes of an answer take its request out of flight."""
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(CHUNK):
                self._settle(pending)
                client.sendall(chunk)
        close_both(client, upstream)

    def _open(self, pending: threading.Event) -> None:
        """Put a connection's request in the in-flight count, once."""
        with self._gate:
            if not pending.is_set():
                pending.set()
                self.in_flight.enter()

    def _settle(self, pending: threading.Event) -> None:
        """Take a connection's request out of the in-flight count, once."""
        with self._gate:
            if pending.is_set():
                pending.clear()
                self.in_flight.leave()


def close_both(*sockets: socket.socket) -> None:
    """Shut down and close sockets, ignoring those already closed."""
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

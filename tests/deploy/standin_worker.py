"""``python -m tests.deploy.standin_worker``: a real HTTP server keeping the bot worker's contract.

For launch tests that exercise supervision (start, SIGKILL, restart, HAProxy's health checks)
without the bot. It reads the worker's environment as ``python -m bot`` would, serves
``GET /healthz`` (503 for its first 0.3 s, as a worker still starting, and again after SIGTERM),
and answers a POST to ``/<TELEGRAM_WEBHOOK_PATH>`` carrying the right secret header with what it
was given (its port, and facts about its environment); a wrong secret gets 403.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from aiohttp import web

STARTING_S = 0.3
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class StandIn:
    """The worker's state: ready after a short start, not ready once stopping."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.stopping = False

    async def health(self, _: web.Request) -> web.Response:
        """200 when ready, 503 while starting or stopping."""
        ready = not self.stopping and time.monotonic() - self.started > STARTING_S
        return web.Response(status=200 if ready else 503, text="ok" if ready else "not ready")

    async def update(self, request: web.Request) -> web.Response:
        """Answer an update with the worker's identity and contract."""
        if request.headers.get(SECRET_HEADER) != os.environ["TELEGRAM_WEBHOOK_SECRET"]:
            return web.Response(status=403)
        await request.read()
        return web.json_response(contract())


def contract() -> dict[str, object]:
    """What this worker was given, as the launch test checks it."""
    env = os.environ
    return {
        "port": int(env["TELEGRAM_WEBHOOK_PORT"]),
        "listen": env["TELEGRAM_WEBHOOK_LISTEN"],
        "webhook_url": env["TELEGRAM_WEBHOOK_URL"],
        "shared_state": env["BOT_SHARED_STATE"],
        "database": env["DATABASE_URL"].split(":", 1)[0],
        "replicas": len(env["MEILI_URLS"].split(",")),
        "cert_exists": Path(env["TELEGRAM_WEBHOOK_CERT"]).is_file(),
        "search_key": (Path(env["NOZIRI_DATA_DIR"]) / "search.key").is_file(),
        "api_root": env["TELEGRAM_API_BASE_URL"],
    }


async def serve() -> None:
    """Serve until SIGTERM; then say 503 for a moment and exit."""
    standin = StandIn()
    app = web.Application()
    app.router.add_get("/healthz", standin.health)
    app.router.add_post(f"/{os.environ['TELEGRAM_WEBHOOK_PATH']}", standin.update)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = int(os.environ["TELEGRAM_WEBHOOK_PORT"])
    await web.TCPSite(runner, os.environ["TELEGRAM_WEBHOOK_LISTEN"], port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    standin.stopping = True
    await asyncio.sleep(0.6)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())

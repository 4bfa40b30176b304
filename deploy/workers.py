"""Bot workers: ``python -m bot`` in webhook mode behind HAProxy, one process per planned port.

The contract a worker is started with (all through the environment, nothing inherited from
ours but the basics, this checkout on ``PYTHONPATH``, the worker's data dir as its cwd so no
``.env`` is read by accident)::

    TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL   the Bot API root and the token
    TELEGRAM_WEBHOOK_URL      https://127.0.0.1:<front>/ (HAProxy's front; the path is appended)
    TELEGRAM_WEBHOOK_PATH     one path for every worker
    TELEGRAM_WEBHOOK_SECRET   one secret for every worker
    TELEGRAM_WEBHOOK_CERT     the self-signed public certificate, uploaded with setWebhook
    TELEGRAM_WEBHOOK_LISTEN / TELEGRAM_WEBHOOK_PORT   127.0.0.1 and the worker's own port
    BOT_SHARED_STATE=database, DATABASE_URL   limits, conversations and update ids shared
    MEILI_URLS                every replica (the search key is in the worker's data dir)
    NOZIRI_DATA_DIR           the worker's own directory

A worker serves ``GET /healthz``: 200 when ready, 503 while starting or stopping.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import SecretStr

from deploy.plan import LOOPBACK, Plan, Secrets, WorkerSpec
from deploy.processes import Child, answers, clean_environment
from search_platform.settings import PROJECT_ROOT

START_TIMEOUT_S = 90.0
BOT_COMMAND = (sys.executable, "-m", "bot")


@dataclass(frozen=True)
class BotApi:
    """Where the workers reach the Bot API, and as whom."""

    root: str
    token: SecretStr


def worker_environment(
    plan: Plan, worker: WorkerSpec, *, api: BotApi, secrets: Secrets, database_url: str
) -> dict[str, str]:
    """The environment of one worker (see the module docstring)."""
    return clean_environment(
        {
            "TELEGRAM_BOT_TOKEN": api.token.get_secret_value(),
            "TELEGRAM_API_BASE_URL": api.root,
            "TELEGRAM_WEBHOOK_URL": plan.proxy.front_url,
            "TELEGRAM_WEBHOOK_PATH": plan.webhook_path,
            "TELEGRAM_WEBHOOK_SECRET": secrets.webhook_secret.get_secret_value(),
            "TELEGRAM_WEBHOOK_CERT": str(plan.proxy.cert),
            "TELEGRAM_WEBHOOK_LISTEN": LOOPBACK,
            "TELEGRAM_WEBHOOK_PORT": str(worker.port),
            "BOT_SHARED_STATE": "database",
            "DATABASE_URL": database_url,
            "MEILI_URLS": plan.meili_urls,
            "NOZIRI_DATA_DIR": str(worker.data_dir),
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        | dict(plan.worker_settings)
    )


@dataclass
class Worker:
    """One bot worker process."""

    spec: WorkerSpec
    env: dict[str, str]
    command: Sequence[str] = field(default=BOT_COMMAND)
    child: Child | None = None

    def start(self, *, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start the worker (``python -m bot``) and wait until its ``/healthz`` answers 200."""
        self.spec.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.child = Child(
            f"bot worker {self.spec.index}",
            self.command,
            self.spec.log,
            env=self.env,
            cwd=self.spec.data_dir,
        )
        self.child.start()
        self.child.wait_until(self.ready, timeout_s=timeout_s, what="ready (/healthz 200)")

    def ready(self) -> bool:
        """Tell whether the worker says it is ready."""
        return answers(f"{self.spec.url}/healthz", timeout_s=0.5)

    def kill(self) -> None:
        """SIGKILL it (a crash: no goodbye, no 503 first)."""
        if self.child is not None:
            self.child.kill()

    def stop(self) -> None:
        """SIGTERM: the worker says 503, finishes what it holds, and exits."""
        if self.child is not None:
            self.child.stop(timeout_s=15)

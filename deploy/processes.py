"""Child processes of a launch: spawn in their own session, wait for health, stop, kill.

Every child runs in its own session (its pid is its process group), so a stop or a kill reaches
whatever it started too, and nothing outlives the launch. Output goes to a log file; errors quote
its last lines.

::

    DeployError (SetupError)    deploy: a part of the topology did not start or is missing
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from resolver.errors import SetupError

STOP_TIMEOUT_S = 10.0
POLL_S = 0.05


class DeployError(SetupError):
    """A part of the topology did not start, or something it needs is not installed."""


def log_tail(log: Path, *, count: int = 15) -> str:
    """Return the last lines of a log, for error messages."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(line for line in lines[-count:] if line.strip()) or "(empty log)"


@dataclass
class Child:
    """One supervised process: what to run, and the running ``Popen`` if any."""

    name: str
    command: Sequence[str]
    log: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    user: int | None = None
    group: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        """The pid while it runs."""
        if self.process is None or self.process.poll() is not None:
            return None
        return self.process.pid

    @property
    def running(self) -> bool:
        """Tell whether the process is alive (not yet reaped)."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Spawn it (in its own session, output appended to its log)."""
        if self.running:
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                list(self.command),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=dict(self.env) if self.env is not None else None,
                start_new_session=True,
                user=self.user,
                group=self.group,
                extra_groups=[] if self.user is not None else None,
            )

    def send(self, number: int) -> None:
        """Send a signal to its whole process group."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, number)

    def kill(self) -> None:
        """SIGKILL its process group and reap it."""
        self.send(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self, *, signum: int = signal.SIGTERM, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Ask it to stop (``signum``), SIGKILL its group if it has not exited in time."""
        if self.process is None:
            return
        self.send(signum)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever it left in its group

    def wait_until(self, ready: Callable[[], bool], *, timeout_s: float, what: str) -> None:
        """Poll ``ready`` until true; raise if the process exits or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise DeployError(
                    f"{self.name} exited with status {self.process.returncode} before {what}. "
                    f"Its log ({self.log}) ends with:\n{log_tail(self.log)}"
                )
            if ready():
                return
            time.sleep(POLL_S)
        raise DeployError(
            f"{self.name} was not {what} within {timeout_s:.0f} s. "
            f"Its log ({self.log}) ends with:\n{log_tail(self.log)}"
        )


def answers(url: str, *, status: int = 200, contains: str = "", timeout_s: float = 1.0) -> bool:
    """Tell whether a GET of ``url`` answers ``status`` (and holds ``contains``)."""
    try:
        response = httpx.get(url, timeout=timeout_s, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == status and contains in response.text


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without the project's own settings, plus ``extra``.

    A child must not inherit a MEILI_URL, DATABASE_URL or token meant for something else.
    """
    prefixes = ("MEILI_", "TELEGRAM_", "BOT_", "NOZIRI_", "REPORTS_", "DATABASE_")
    kept = {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}
    return kept | dict(extra)

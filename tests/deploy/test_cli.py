"""``python -m deploy``: the commands that need no running topology."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.__main__ import main, redacted
from deploy.haproxy import check_config
from deploy.plan import ProxySpec
from deploy.tls import make_certificate
from tests.deploy.test_launch import alive, processes_using


@pytest.mark.usefixtures("haproxy")
def test_render_haproxy_prints_a_config_haproxy_accepts_once_the_certificate_exists(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["render-haproxy", "--workers", "4"]) == 0
    rendered = capsys.readouterr().out
    assert rendered.count("    server worker") == 4
    pem = next(
        line.split("crt ")[1].split()[0] for line in rendered.splitlines() if " crt " in line
    )
    config = tmp_path / "haproxy.cfg"
    config.write_text(rendered.replace(pem, str(tmp_path / "front.pem")), encoding="utf-8")
    make_certificate(ProxySpec(front_port=1, data_dir=tmp_path))
    assert "valid" in check_config(config)


def test_up_refuses_an_api_root_without_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "--api-root", "http://127.0.0.1:9"]) == 1
    assert "--api-root and --token go together" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://noziri:s3cret@127.0.0.1:5432/noziri",
            "postgresql+psycopg://noziri:***@127.0.0.1:5432/noziri",
        ),
        ("sqlite:////tmp/x/reports.sqlite3", "sqlite:////tmp/x/reports.sqlite3"),
    ],
)
def test_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redacted(url) == shown


@pytest.mark.usefixtures("haproxy", "deploy_meili")
def test_up_serves_until_sigterm_then_stops_everything_and_removes_its_run_dir() -> None:
    command = [sys.executable, "-m", "deploy", "up", "--workers", "1", "--replicas", "1"]
    process = subprocess.Popen(
        [*command, "--database", "sqlite"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = read_until(process, "Ctrl-C stops everything", timeout_s=120)
        run_dir = Path(next(line for line in lines if "starting in" in line).split()[2])
        running = processes_using(run_dir)
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)
    finally:
        process.kill()
    table = "\n".join(lines)
    assert status == 0
    assert "worker0" in table and "UP (L7OK)" in table and "available" in table
    assert len(running) >= 4, "the fake Bot API, HAProxy, a replica and a worker ran"
    assert [pid for pid in running if alive(pid)] == []
    assert not run_dir.exists()


def read_until(process: subprocess.Popen[str], marker: str, *, timeout_s: float) -> list[str]:
    """Read the command's output lines until one holds ``marker``."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if marker in line:
            return lines
    raise AssertionError("python -m deploy up did not come up:\n" + "\n".join(lines))

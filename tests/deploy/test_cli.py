"""``python -m deploy``: the commands that need no running topology."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.__main__ import main, redacted
from deploy.haproxy import check_config
from deploy.plan import ProxySpec
from deploy.tls import make_certificate


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

"""The maintainer's commands: ``python -m bot staff …`` and ``python -m bot reports …``."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from reports.cli import Context, main
from reports.database import head_revision
from reports.model import Action, StaffScope
from reports.settings import ReportSettings
from reports.store import open_store
from tests.reports.conftest import RESIDENT, SECTOR_CHAT, Clock, MakeDraft

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = frozenset({"SOM-17", "SOM-18", "SIN-03"})
CODE = re.compile(r"/link ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(
    database_url: str, clock: Clock, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> RunCli:
    """``run_cli("staff", "list")``: exit status, stdout, stderr of one command."""
    settings = ReportSettings(database_url=SecretStr(database_url), noziri_data_dir=tmp_path)

    def run(*argv: str, sectors: frozenset[str] | None = PUBLISHED) -> tuple[int, str, str]:
        context = Context(settings, known_sectors=lambda: sectors, clock=lambda: clock.now)
        status = main(list(argv), context=context)
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_invite_prints_a_code_that_links_the_sector(
    run_cli: RunCli, database_url: str, clock: Clock
) -> None:
    status, out, _ = run_cli("staff", "invite", "som-17")
    assert status == 0
    assert "valid until 2026-11-04 09:00 UTC" in out  # 48 hours by default
    (code,) = CODE.findall(out)
    store = open_store(database_url)
    try:
        assert store.link(code, chat_id=SECTOR_CHAT, now=clock.now) == StaffScope(
            sector_id="SOM-17"
        )
    finally:
        store.close()
    status, out, _ = run_cli("staff", "list")
    assert out.split() == ["SOM-17", "chat", str(SECTOR_CHAT)]


@pytest.mark.parametrize(
    ("sector", "sectors", "message"),
    [
        ("SOM-99", PUBLISHED, "no published sector SOM-99: the sectors are SOM-17, SOM-18"),
        ("FIR-01", PUBLISHED, "the sectors are SIN-03, SOM-17, SOM-18"),
        ("SOMONI", PUBLISHED, "not a sector id"),
        ("SOM-1", None, "not a sector id"),
    ],
)
def test_invite_refuses_a_sector_the_bot_does_not_serve(
    run_cli: RunCli, sector: str, sectors: frozenset[str] | None, message: str
) -> None:
    status, out, err = run_cli("staff", "invite", sector, sectors=sectors)
    assert (status, out) == (1, "")
    assert message in err


def test_without_the_published_data_the_ids_form_is_checked(run_cli: RunCli) -> None:
    status, out, _ = run_cli("staff", "invite", "SHM-08", sectors=None)
    assert status == 0
    assert "/link " in out


def test_a_duty_chat_invite_and_unlink(run_cli: RunCli, database_url: str, clock: Clock) -> None:
    _, out, _ = run_cli("staff", "invite", "--duty", "sino")
    assert "the sino duty chat's escalations" in out
    store = open_store(database_url)
    try:
        store.link(CODE.findall(out)[0], chat_id=-77, now=clock.now)
    finally:
        store.close()
    status, out, _ = run_cli("staff", "unlink", "--duty", "sino")
    assert (status, out.split()[:5]) == (0, ["duty:sino", "unlinked", "from", "chat", "-77;"])
    assert run_cli("staff", "unlink", "--duty", "sino")[1] == "duty:sino had no staff chat\n"


def test_a_scope_is_a_sector_or_a_duty_chat_not_both(run_cli: RunCli) -> None:
    assert run_cli("staff", "invite", "SOM-17", "--duty", "sino")[0] == 1
    assert run_cli("staff", "invite")[0] == 1


@pytest.fixture
def filed(database_url: str, make_draft: MakeDraft, clock: Clock) -> list[str]:
    """Two reports in SOM-17 (the first closed) and one in SIN-03, a day apart each."""
    store = open_store(database_url)
    try:
        code = store.invite(StaffScope(sector_id="SOM-17"), now=clock.now, valid_for=timedelta(1))
        store.link(code, chat_id=SECTOR_CHAT, now=clock.now)
        refs = []
        for sector in ("SOM-17", "SOM-17", "SIN-03"):
            draft = make_draft(sector_id=sector)
            refs.append(store.submit(draft, resident_chat_id=RESIDENT, now=clock.now).reference)
            clock.advance(days=1)
        store.act(refs[0], Action.CLOSE, chat_id=SECTOR_CHAT, now=clock.now, text="resolved")
    finally:
        store.close()
    return refs


def test_export_writes_a_csv_of_the_sector_since_the_day(run_cli: RunCli, filed: list[str]) -> None:
    status, out, _ = run_cli("reports", "export", "--sector", "SOM-17", "--since", "2026-11-02")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [row["reference"] for row in rows] == filed[:2]
    assert rows[0]["outcome"] == "resolved"
    assert rows[0]["created_at"] == "2026-11-02T09:00:00+00:00"
    assert str(RESIDENT) not in out
    _, later, _ = run_cli("reports", "export", "--since", "2026-11-03")
    assert [row["reference"] for row in csv.DictReader(io.StringIO(later))] == filed[1:]


def test_export_to_a_file_is_private(run_cli: RunCli, filed: list[str], tmp_path: Path) -> None:
    target = tmp_path / "som17.csv"
    status, out, err = run_cli("reports", "export", "--since", "2026-11-01", "--out", str(target))
    assert (status, out) == (0, "")
    assert "3 report(s) written" in err
    assert target.stat().st_mode & 0o777 == 0o600
    assert len(target.read_text(encoding="utf-8").splitlines()) == 4


def test_forget_applies_retention_now(
    run_cli: RunCli, filed: list[str], database_url: str, clock: Clock
) -> None:
    assert "0 report(s)" in run_cli("reports", "forget")[1]
    clock.advance(days=91)
    assert "1 report(s)" in run_cli("reports", "forget")[1]
    store = open_store(database_url)
    try:
        assert store.get(filed[0]).resident_chat_id is None
        assert store.get(filed[1]).resident_chat_id == RESIDENT
    finally:
        store.close()


def test_migrate_says_the_revision_and_hides_the_password(run_cli: RunCli) -> None:
    status, out, _ = run_cli("reports", "migrate")
    assert status == 0
    head = head_revision()
    assert f"at revision {head} (newest: {head})" in out
    assert "***" in out or "sqlite" in out


def run_bot(*argv: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``python -m bot …`` in a subprocess, from the checkout."""
    env = os.environ | {"DATABASE_URL": database_url, "NOZIRI_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_commands_run_as_python_m_bot(database_url: str, tmp_path: Path) -> None:
    migrated = run_bot("reports", "migrate", database_url=database_url, tmp_path=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    invited = run_bot("staff", "invite", "--duty", "firdavsi", database_url=database_url,
                      tmp_path=tmp_path)  # fmt: skip
    assert invited.returncode == 0, invited.stderr
    assert CODE.search(invited.stdout)
    listed = run_bot("staff", "list", database_url=database_url, tmp_path=tmp_path)
    assert "no staff chat is linked yet" in listed.stdout


def test_the_default_database_is_a_private_file_in_the_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["NOZIRI_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "reports", "migrate"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / "reports.sqlite3").stat().st_mode & 0o777 == 0o600

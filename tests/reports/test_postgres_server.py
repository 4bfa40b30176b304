"""Finding the PostgreSQL binaries (deploy.postgres) the tests and the deploy start servers from."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import postgres


def make_bindir(root: Path, *names: str) -> Path:
    root.mkdir(parents=True)
    for name in names:
        (root / name).write_text("#!/bin/sh\n", encoding="utf-8")
    return root


def test_the_configured_directory_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = make_bindir(tmp_path / "pg" / "bin", *postgres.NEEDED)
    monkeypatch.setenv("NOZIRI_PG_BINDIR", str(configured))
    assert postgres.find_bindir() == configured


def test_a_directory_without_the_server_binaries_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_only = make_bindir(tmp_path / "client", "psql", "pg_ctl")
    monkeypatch.setenv("NOZIRI_PG_BINDIR", str(client_only))
    assert postgres.find_bindir() != client_only


def test_the_postgresql_runs_are_required_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.reports.backends import postgres_required

    monkeypatch.setenv("NOZIRI_REQUIRE_POSTGRES", "1")
    assert postgres_required()
    monkeypatch.setenv("NOZIRI_REQUIRE_POSTGRES", "0")
    assert not postgres_required()

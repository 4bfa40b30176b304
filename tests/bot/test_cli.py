"""``python -m bot``: composition and the errors a user meets before the bot can start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import build_parser, compose_services, main
from bot.settings import BotSettings
from tests.bot.fakes import FakeResolver, FakeSectors


def test_without_an_index_the_bot_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOZIRI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MEILI_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("MEILI_SEARCH_KEY", raising=False)
    assert main(["chat"]) == 2
    assert "python -m index_builder build" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "offline"),
    [([], False), (["run"], False), (["chat"], True), (["chat", "--lang", "tg"], True)],
)
def test_chat_forces_the_offline_mode(argv: list[str], offline: bool) -> None:
    assert build_parser().parse_args(argv).offline is offline


def test_services_follow_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOZIRI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOT_QUERIES_PER_MINUTE", "7")
    monkeypatch.setenv("BOT_REPLY_DEADLINE_S", "1.5")
    services = compose_services(BotSettings(_env_file=None), FakeResolver(), FakeSectors())
    assert services.limiter.per_minute == 7
    assert services.reply_deadline_s == 1.5
    assert services.unresolved.path == tmp_path / "unresolved.jsonl"

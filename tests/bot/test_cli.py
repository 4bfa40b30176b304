"""``python -m bot``: composition and the errors a user meets before the bot can start."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rich.console import Console

from bot.__main__ import build_parser, compose_services, main, run_telegram
from bot.i18n import CatalogueError, load_catalogue
from bot.offline.fake_api import FakeBotApi
from bot.settings import BotSettings
from resolver.__main__ import describe_candidate, print_resolution, resolution_json
from resolver.__main__ import main as resolver_main
from resolver.errors import ConfigError, NoziriError
from resolver.models import AddressParts, Resolution, Status
from search_platform.settings import PROJECT_ROOT
from tests.bot.conftest import MakeServices
from tests.bot.fakes import FakeResolver, FakeSectors, make_candidate, make_officer, make_sector


def test_without_an_index_the_bot_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOZIRI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MEILI_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("MEILI_SEARCH_KEY", raising=False)
    assert main(["chat"]) == 1
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


@pytest.fixture
def broken_seed(tmp_path: Path) -> Path:
    """A copy of the seed with a typo in a field name of ``places.yaml``."""
    seed = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", seed)
    places = seed / "places.yaml"
    places.write_text(places.read_text(encoding="utf-8").replace("  kind:", "  knid:", 1))
    return seed


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_seed_typo_is_reported_by_the_builder_by_file_and_line_without_a_traceback(
    command: str, broken_seed: Path, tmp_path: Path
) -> None:
    env = os.environ | {"NOZIRI_SEED_DIR": str(broken_seed), "NOZIRI_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "index_builder", command],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert "places.yaml:" in output and "'knid'" in output


@pytest.mark.parametrize("module", ["bot", "resolver"])
def test_the_bot_and_the_resolver_never_read_the_seed(
    module: str, broken_seed: Path, tmp_path: Path
) -> None:
    env = os.environ | {
        "NOZIRI_SEED_DIR": str(broken_seed),
        "NOZIRI_DATA_DIR": str(tmp_path),
        "MEILI_URL": "http://127.0.0.1:9",  # nothing published here: they say to build it
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("MEILI_SEARCH_KEY", None)
    args = ["chat"] if module == "bot" else ["Рудаки 45"]
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "places.yaml" not in done.stderr and "index_builder build" in done.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BOT_QUERIES_PER_MINUTE", "many"),
        ("BOT_REPLY_DEADLINE_S", "60"),
        ("TELEGRAM_WEBHOOK_PORT", "0"),
        ("MEILI_TIMEOUT_S", "-1"),
    ],
)
def test_a_wrong_setting_is_named_and_exits_1(
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["chat"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: configuration error:") and variable in err


def test_the_resolver_cli_names_a_wrong_setting_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEILI_TIMEOUT_S", "soon")
    assert resolver_main(["Рудаки 45"]) == 1
    assert "MEILI_TIMEOUT_S" in capsys.readouterr().err


def test_a_broken_catalogue_is_a_setup_error(tmp_path: Path) -> None:
    (tmp_path / "tg.yaml").write_text("- not a mapping\n")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path)
    assert isinstance(caught.value, NoziriError)


@pytest.mark.parametrize(
    ("name_ru", "name_tg", "shown"),
    [
        ("Азамат Каримов", "Азамат Каримов", "Азамат Каримов (captain"),
        ("Фарход Зоиров", "Фарҳод Зоиров", "Фарход Зоиров / Фарҳод Зоиров (captain"),
    ],
)
def test_the_resolver_cli_names_an_inspector_once_per_spelling(
    name_ru: str, name_tg: str, shown: str
) -> None:
    officer = make_officer(name_ru=name_ru, name_tg=name_tg)
    [_, line] = describe_candidate(make_candidate(sector=make_sector(officer=officer)))
    assert shown in line
    assert line.count(name_ru) == 1


def test_the_resolver_cli_writes_the_phone_as_the_card_does() -> None:
    [_, line] = describe_candidate(make_candidate())
    assert "+992 00 123 45 67" in line


def test_the_resolver_cli_says_which_old_name_was_read() -> None:
    [line, _] = describe_candidate(make_candidate(matched_old_name="улица Ленина"))
    assert "old name “улица Ленина”" in line


def test_the_resolver_cli_shows_the_address_parts_it_read() -> None:
    parts = AddressParts(postcode="734025", office="7")
    resolution = Resolution(query="…", status=Status.RESOLVED, candidates=(make_candidate(),))
    answer = resolution.model_copy(update={"parts": parts})
    assert resolution_json(answer)["parts"] == {"postcode": "734025", "office": "7"}
    console = Console(record=True, width=200)
    print_resolution(answer, console)
    assert "parts: postcode 734025, office 7" in console.export_text()


def test_the_resolver_cli_says_when_the_text_is_in_another_town() -> None:
    answer = Resolution(
        query="г. Худжанд", status=Status.NOT_FOUND, parts=AddressParts(elsewhere="хучанд")
    )
    console = Console(record=True, width=200)
    print_resolution(answer, console)
    assert "Not in Dushanbe (хучанд)" in console.export_text()


def test_a_token_telegram_refuses_is_a_configuration_error(
    make_services: MakeServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready, stop = threading.Event(), threading.Event()
    roots: list[str] = []

    async def serve() -> None:
        async with FakeBotApi() as api:
            roots.append(api.root)
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.02)

    server = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    server.start()
    assert ready.wait(10)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", roots[0])
    try:
        with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
            run_telegram(make_services(), BotSettings(_env_file=None), "999:refused-token")
    finally:
        stop.set()
        server.join(10)

"""Property-based fuzzing of the resolver (real Meilisearch) and of the bot's text handler.

Any Unicode, 4096-character messages, control characters, right-to-left text, emoji and
Meilisearch's own syntax: the resolver always returns a valid :class:`Resolution`, and the bot
always sends exactly one reply that Telegram would accept, never the error apology.

Deterministic in CI (``derandomize=True``, no example database); the number of examples and the
time they took are printed with the run's figures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.i18n import LANGUAGES, load_catalogue
from bot.offline.fake_api import FakeUser
from resolver.meili import MeiliBackend
from resolver.models import Resolution, Status
from resolver.service import Resolver
from search_platform.connection import Endpoint
from tests.reliability.building import SampledResolver, make_resolver, real_services, warm_up
from tests.reliability.chat import BotSession
from tests.reliability.conftest import ErrorLog
from tests.reliability.strategies import hostile_text, message_text
from tests.reliability.telegram_rules import send_problems

pytestmark = pytest.mark.integration

# 10,000 inputs in all; NOZIRI_FUZZ_SCALE=0.1 runs a tenth of them for a quick local check.
SCALE = float(os.environ.get("NOZIRI_FUZZ_SCALE", "1"))
# The resolver costs ~40 ms a hostile query (Meilisearch and scoring); the bot's handler runs
# over :class:`SampledResolver` (real candidates, no search) at a few ms an update.
RESOLVER_EXAMPLES = max(1, int(1_500 * SCALE))
BOT_EXAMPLES = max(1, int(8_500 * SCALE))
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,  # the stopwatch and the error counter span examples
    ],
)
APOLOGIES = {load_catalogue().text(lang, "error") for lang in LANGUAGES}


class Stopwatch:
    """Count examples and the seconds the whole property took."""

    def __init__(self) -> None:
        self.examples = 0
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Seconds since the property started."""
        return time.perf_counter() - self.started


@pytest.fixture
def stopwatch(request: pytest.FixtureRequest, figures: dict[str, Any]) -> Iterator[Stopwatch]:
    """Time one property test and record its examples and seconds as figures."""
    watch = Stopwatch()
    yield watch
    name = request.node.name.removeprefix("test_")
    figures[f"fuzz: {name}: examples"] = watch.examples
    figures[f"fuzz: {name}: seconds"] = round(watch.seconds, 1)


@pytest.fixture(scope="module")
def fuzz_search(
    meili: Endpoint, live_index: tuple[str, SecretStr]
) -> Iterator[tuple[Resolver, MeiliBackend]]:
    """The real resolver on the session's published seed index, Meilisearch warmed up.

    Meilisearch loads its Chinese, Japanese and Korean dictionaries on the first query in those
    scripts (seconds); that cold start has its own test (test_faults), so it is paid here up
    front instead of failing whichever fuzz example happens to come first.
    """
    live, key = live_index
    warm_up(meili, key, live=live)
    resolver, backend = make_resolver(meili.url, key, live=live)
    yield resolver, backend
    backend.close()


@pytest.fixture(scope="module")
def fuzz_resolver(fuzz_search: tuple[Resolver, MeiliBackend]) -> Resolver:
    """The real resolver over the warmed-up index."""
    return fuzz_search[0]


@pytest.fixture(scope="module")
def fuzz_bot(
    fuzz_search: tuple[Resolver, MeiliBackend], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotSession]:
    """The real bot, fed updates directly (no polling round trip), answering real candidates."""
    resolver, backend = fuzz_search
    services = real_services(
        resolver, backend, data_dir=tmp_path_factory.mktemp("fuzz-bot"), per_minute=1_000_000
    )
    services.resolver = SampledResolver.over(resolver)
    session = BotSession(services, in_process=True)
    yield session
    session.close()


def check_resolution(resolution: Resolution, text: str) -> None:
    """A valid, self-consistent answer to ``text``."""
    assert isinstance(resolution, Resolution)
    assert Resolution.model_validate_json(resolution.model_dump_json()) == resolution
    assert resolution.query == text
    places = {c.place_id for c in resolution.candidates}
    assert len(places) <= 5  # up to five places; one split street brings every house range
    assert len(resolution.candidates) <= 5 or len(places) == 1
    if resolution.status is Status.NOT_FOUND:
        assert resolution.candidates == ()
    else:
        assert resolution.candidates
    if resolution.status is Status.RESOLVED:
        assert resolution.best is not None and resolution.best.sector is not None


@settings(FUZZ, max_examples=RESOLVER_EXAMPLES)
@given(text=hostile_text)
def test_resolver_answers_any_text_with_a_valid_resolution(
    fuzz_resolver: Resolver, stopwatch: Stopwatch, text: str
) -> None:
    stopwatch.examples += 1
    check_resolution(fuzz_resolver.resolve(text), text)


@settings(FUZZ, max_examples=BOT_EXAMPLES)
@given(
    text=message_text,
    user=st.builds(
        FakeUser,
        id=st.integers(min_value=1, max_value=2**52),
        language_code=st.sampled_from([None, "ru", "tg", "en", "uz", "fa", "he", "zh-hans"]),
    ),
)
def test_bot_replies_to_any_message_once_and_telegram_would_accept_it(
    fuzz_bot: BotSession,
    stopwatch: Stopwatch,
    error_log: ErrorLog,
    text: str,
    user: FakeUser,
) -> None:
    stopwatch.examples += 1
    calls = fuzz_bot.text(user, text)
    assert [(c.method, c.chat_id) for c in calls] == [("sendMessage", user.id)]
    assert calls[0].params["text"] not in APOLOGIES
    assert send_problems(calls[0]) == []
    assert error_log.records == []

"""Any ``callback_data`` at all (Telegram hands back whatever a client sends): never a traceback.

A signature with non-ASCII characters used to make ``hmac.compare_digest`` raise ``TypeError``
(it compares ``str`` only when both are ASCII), which reached the user as "something went wrong".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.callbacks import CallbackSigner, decode_press, encode_contact, encode_pick
from bot.i18n import LANGUAGES, load_catalogue
from bot.offline.fake_api import FakeUser
from bot.throttle import QueryLimiter
from tests.bot.conftest import MakeServices
from tests.bot.fakes import FakeResolver, make_candidate, resolved
from tests.reliability.chat import BotSession

CATALOGUE = load_catalogue()
STALE = {CATALOGUE.text(lang, "stale_press") for lang in LANGUAGES}
USER = FakeUser(id=5150, language_code="ru")
SIGNER = CallbackSigner(secret=b"test-secret")
# Any text, including characters outside the BMP and lone surrogates (JSON may carry them).
any_text = st.text(st.characters(codec=None), max_size=64)
signature_like = st.text(st.characters(codec=None, exclude_characters=":"), max_size=12)
payloads = st.one_of(
    any_text,
    st.builds("p:{}:{}:{}".format, st.sampled_from(["dyu-0001", "ü"]), any_text, signature_like),
    st.builds("c:{}:{}".format, st.sampled_from(["SOM-01", "Ҳ"]), signature_like),
    st.builds("l:{}".format, any_text),
)
QUICK = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize(
    "data",
    ["p:dyu-0001::ЖЖЖЖЖЖЖЖ", "c:SOM-01:подпись", "c:SOM-01:\U0001f600", "p:x:45:é", "c:x:\ud800"],
)
def test_a_non_ascii_signature_is_refused_not_raised(data: str) -> None:
    assert decode_press(data, SIGNER, languages=LANGUAGES) is None


@QUICK
@given(data=payloads)
def test_decoding_any_payload_returns_a_press_or_none(data: str) -> None:
    decode_press(data, SIGNER, languages=LANGUAGES)  # raising is the failure


def test_signed_payloads_still_verify_after_the_bytes_comparison() -> None:
    assert decode_press(encode_contact("SOM-01", SIGNER), SIGNER, languages=LANGUAGES)
    assert decode_press(encode_pick("dyu-0001", "45/1", SIGNER), SIGNER, languages=LANGUAGES)


@pytest.fixture
def session(make_services: MakeServices) -> Iterator[BotSession]:
    """The real handlers in-process, with one answer (and its buttons) shown to :data:`USER`."""
    services = make_services(
        resolver=FakeResolver({"Рудаки 45": resolved("Рудаки 45", make_candidate(), house=45)}),
        limiter=QueryLimiter(per_minute=1_000_000, burst=1_000_000),
    )
    bot = BotSession(services, in_process=True)
    bot.text(USER, "Рудаки 45")
    yield bot
    bot.close()


def last_bot_message(session: BotSession) -> int:
    """The id of the last message the bot sent :data:`USER`."""
    chat = session.api.messages
    return max(mid for (cid, mid), m in chat.items() if cid == USER.id and m["from"]["is_bot"])


@QUICK
@given(data=payloads.filter(lambda d: d not in {"x", *(f"l:{lang}" for lang in LANGUAGES)}))
def test_any_forged_payload_gets_the_polite_answer_and_no_traceback(
    session: BotSession, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        calls = session.press(USER, data, message_id=last_bot_message(session))
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert calls[0].params.get("text") in STALE
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

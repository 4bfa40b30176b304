"""Hypothesis strategies for what residents (and attackers) may type."""

from __future__ import annotations

from hypothesis import strategies as st

MAX_MESSAGE = 4096
PLACE_WORDS = (
    "Рудаки",
    "кӯчаи Айнӣ",
    "хиёбони Рӯдакӣ 45а/1",
    "улица Ленина",
    "пр.",
    "кв 12",
    "ЦУМ",
    "Корвон",
    "Dushanbe",
    "Somoni avenue 12",
    "ghdjkb",  # the Russian word for "Рудаки" typed on an English keyboard layout
)
MEILI_SYNTAX = (
    '"',
    "'",
    "-",
    "--",
    "AND",
    "OR",
    "NOT",
    "TO",
    "*",
    "?",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "=",
    "!=",
    ">=",
    "<",
    "\\",
    "%",
    "&",
    "|",
    "_geoRadius(38.5, 68.7, 1000)",
    "_geoBoundingBox([38.6, 68.7], [38.5, 68.8])",
    'id = "x" OR 1=1',
    "filter=kind = street",
    "sort:popularity:desc",
    "EXISTS",
    "IS NULL",
    "IN [1, 2]",
    "-Рудаки",
    '"Рудаки"',
    "*Рудаки*",
    "<b>Рудаки</b>",
    "&amp;",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "%s%n",
    "'; DROP TABLE places; --",
)
RTL_WORDS = (
    "\u200f",  # right-to-left mark
    "\u200e",  # left-to-right mark
    "\u202e",  # right-to-left override
    "\u202b",
    "\u2067",
    "\u2069",
    "خیابان رودکی",
    "شارع رودكي",
    "רחוב רודקי",
    "پژوهشگاه",
)
EMOJI_WORDS = ("👮‍♂️", "🏳️‍🌈", "🇹🇯", "👍🏽", "\u200d", "\ufe0f", "1️⃣", "🫠")

rtl = st.characters(min_codepoint=0x0590, max_codepoint=0x08FF) | st.sampled_from(
    "\u200f\u200e\u202e\u202b\u2067\u2069"
)
emoji = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF) | st.sampled_from(
    "\u200d\ufe0f\u20e3"
)
control = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Mn", "Me"])


def house_label(number: int, letter: str, building: int) -> str:
    """A house number as residents write it: 45, 45а, 45/1."""
    return f"{number}{letter}" + (f"/{building}" if building else "")


house = st.builds(
    house_label,
    st.integers(0, 999_999),
    st.sampled_from(["", "а", "б", "в", "a", "b", "ҳ"]),
    st.integers(0, 999),
)

fragment = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=control, min_size=1, max_size=10),
    st.text(alphabet=rtl, min_size=1, max_size=20),
    st.text(alphabet=emoji, min_size=1, max_size=10),
    st.sampled_from(MEILI_SYNTAX),
    st.sampled_from(PLACE_WORDS),
    st.sampled_from(RTL_WORDS),
    st.sampled_from(EMOJI_WORDS),
    house,
)
composed = st.one_of(
    st.lists(fragment, min_size=1, max_size=6).map(" ".join),
    st.lists(fragment, min_size=1, max_size=6).map("".join),
)


def repeat_to(seed: str, length: int) -> str:
    """Repeat ``seed`` up to ``length`` characters (a maximal message)."""
    return (seed * (length // max(1, len(seed)) + 1))[:length]


long_message = st.builds(
    repeat_to, composed.filter(lambda text: len(text) > 0), st.integers(3000, MAX_MESSAGE)
)
# Weighted by repetition: about one input in ten is a maximal (3000-4096 character) message.
hostile_text = st.one_of(
    *[composed] * 5,
    *[st.text(min_size=1, max_size=MAX_MESSAGE)] * 3,
    long_message,
    st.just(""),
)
# Telegram does not deliver an empty message; anything else it does.
message_text = hostile_text.filter(lambda text: len(text) > 0)

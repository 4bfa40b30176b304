"""Step 4 of the resolver: score every hit against every reading (pure).

Meilisearch is generous by design (typos, prefixes, dropped words), which is right for recall and
wrong for a verdict. So every hit is re-scored here against the text the resident typed:

* ``query_coverage``: the share of the query's words found in the candidate's best name, each
  allowed the typo budget its length earns (the index's: 1 from 4 letters, 2 from 8);
* ``name_coverage``: the share of that name's words the query covers (typing "Сино" covers the
  district "ноҳияи Сино" fully, the avenue "Абӯалӣ ибни Сино" only in part);
* the edit distance spent, the engine's own score, and whether the type word fits the kind.

The verdict on the scores is :mod:`resolver.decide`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

from resolver.backend import Hit
from resolver.gazetteer import TermClass
from resolver.index_schema import PlaceDocument
from resolver.readings import Reading
from resolver.text.distance import edit_distance

ADDRESS_FACTOR = 0.8  # a match through a building's street address counts for less
EXTRA_WORD_BONUS = 0.03  # per set-aside word (type word, initial) the name also holds
INITIAL_PENALTY = 0.05  # the text's initial is not that of the name's first word
# A composite address read part by part (resolver.text.address): each word of another part
# that nothing explains costs this much, up to the cap; the district the text names must fit.
LEFTOVER_PENALTY = 0.02
MAX_LEFTOVER_PENALTY = 0.08
DISTRICT_BONUS = 0.02
DISTRICT_PENALTY = 0.15
# With a house number, a street of that name is meant rather than a square or a monument.
HOUSELESS_PENALTY = {"square": 0.05, "landmark": 0.05, "district": 0.15}
# The index's typo budget (index_builder.index_settings reads these too): 1 edit from 4 letters,
# 2 from 8. Tajik names are short (Айни, Сино, Вахш), so 4-letter words need their one typo.
ONE_TYPO_FROM = 4
TWO_TYPOS_FROM = 8

KIND_FOR_TERM: dict[TermClass, frozenset[str]] = {
    TermClass.STREET: frozenset({"street", "avenue"}),
    TermClass.AVENUE: frozenset({"avenue", "street"}),
    TermClass.PASSAGE: frozenset({"street"}),
    TermClass.SQUARE: frozenset({"square"}),
    TermClass.MAHALLA: frozenset({"mahalla", "microdistrict"}),
    TermClass.MICRODISTRICT: frozenset({"microdistrict", "mahalla"}),
    TermClass.DISTRICT: frozenset({"district"}),
    TermClass.MARKET: frozenset({"market"}),
    TermClass.MALL: frozenset({"mall"}),
    TermClass.PARK: frozenset({"landmark"}),
}


@dataclass(frozen=True)
class Scored:
    """A document with its score and the reasons behind it."""

    document: PlaceDocument
    score: float
    query_coverage: float
    reasons: tuple[str, ...]
    settles: bool = True  # False: it may be offered, never answered alone (district differs)
    edits: int = 0  # typos spent to match its name
    matched_alias: str | None = None  # the alias (not a current name) the query matched, if any


def typo_budget(word: str) -> int:
    """Edits a word of this length may carry (the index's typo budget)."""
    if len(word) >= TWO_TYPOS_FROM:
        return 2
    return 1 if len(word) >= ONE_TYPO_FROM else 0


@lru_cache(maxsize=1 << 16)
def word_cost(query_word: str, name_word: str) -> int | None:
    """Edits needed to read ``query_word`` as ``name_word``; None when out of budget.

    A one-letter query word is an initial ("И." in "И. Сомони") and matches a word it starts.
    """
    if len(query_word) == 1:
        return 0 if name_word.startswith(query_word) else None
    if query_word == name_word:
        return 0
    budget = typo_budget(query_word)
    if budget == 0 or abs(len(query_word) - len(name_word)) > budget:
        return None
    if within_one_edit(query_word, name_word):
        return 1
    # Each edit changes the set of letters by at most two: a cheap bound before the full count.
    if budget < 2 or len(set(query_word) ^ set(name_word)) > 2 * budget:
        return None
    distance = edit_distance(query_word, name_word, limit=budget)
    return distance if distance <= budget else None


def within_one_edit(a: str, b: str) -> bool:
    """Tell whether two different words are one substitution, insertion, deletion or swap apart."""
    if len(a) < len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(b))
    if len(a) != len(b):
        return len(a) == len(b) + 1 and a[i + 1 :] == b[i:]
    if a[i + 1 :] == b[i + 1 :]:
        return True
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]


def match_words(query: Sequence[str], name: Sequence[str]) -> tuple[int, int, int]:
    """Greedily pair query words with name words: (query words matched, name words used, edits)."""
    used: set[int] = set()
    matched = edits = 0
    for word in query:
        best: tuple[int, int] | None = None
        for index, candidate in enumerate(name):
            cost = None if index in used else word_cost(word, candidate)
            if cost is not None and (best is None or cost < best[1]):
                best = (index, cost)
        if best is not None:
            used.add(best[0])
            matched += 1
            edits += best[1]
    return matched, len(used), edits


@dataclass(frozen=True)
class NameMatch:
    """How well one query reading matches one name of a document."""

    query_coverage: float
    name_coverage: float
    edits: int
    name: str = ""  # the name (as indexed) the query matched

    @property
    def strength(self) -> float:
        """One number to compare matches: coverage first, edits as a tie-breaker."""
        return self.query_coverage * 2 + self.name_coverage - 0.05 * self.edits


def match_name(query: Sequence[str], name: str, extra: Sequence[str] = ()) -> NameMatch:
    """Compare a query's words with one name's words.

    A name's initials ("У." Хайём) are optional. Words the parser set aside (``extra``: type
    words such as "маркази савдои") count towards covering the name, not towards the query.
    """
    name_words = [word for word in name.split() if len(word) > 1 or word.isdigit()]
    if not name_words or all(len(word) == 1 for word in query):  # initials alone name nothing
        return NameMatch(0.0, 0.0, 0)
    matched, used, edits = match_words(query, name_words)
    if extra and used < len(name_words):
        used += sum(
            1
            for i, word in enumerate(name_words)
            if word not in query
            and (word in extra or _initial_before_match(word, name_words[i + 1 :], extra, query))
        )
    coverage = min(used, len(name_words)) / len(name_words)
    return NameMatch(matched / len(query), coverage, edits, name)


def _initial_before_match(
    word: str, rest: Sequence[str], extra: Sequence[str], query: Sequence[str]
) -> bool:
    """Whether a set-aside initial stands for ``word``: "Х." before a matched "Шерози"."""
    if not rest or not any(len(e) == 1 and word.startswith(e) for e in extra):
        return False
    return any(word_cost(q, rest[0]) is not None for q in query)


def is_same_word(word: str, name_word: str) -> bool:
    """Equal words, or an initial and the word it starts."""
    return word == name_word or (len(word) == 1 and name_word.startswith(word))


def extra_word_bonus(
    extra: Sequence[str], names: Iterable[str], query: Sequence[str] = ()
) -> float:
    """Reward words the parser set aside (type words, initials) that the name also has.

    "маркази савдои Меҳргон" is read as the name "мехргон", which the bazaar and the mall share;
    the mall's full name also holds "маркази савдои", so it should rank first. An initial fits
    only the word it stands before: "Х. Шерози" fits Хафизи Шерози, not хиёбони Саъдии Шерозӣ.
    """
    best = 0
    for name in names:
        words = name.split()
        found = sum(1 for word in extra if _holds(words, word, query))
        best = max(best, found)
    return min(best, 3) * EXTRA_WORD_BONUS


def initials_differ(initials: Sequence[str], names: Iterable[str], query: Sequence[str]) -> bool:
    """Whether the text's initial fits none of the names where a word stands before the
    matched one: "Х. Шерози" and хиёбони Саъдии Шерозӣ."""
    if not initials or not query:
        return False
    before = [
        w
        for name in names
        for w, following in pairwise(name.split())
        if len(w) > 1 and any(word_cost(q, following) is not None for q in query)
    ]
    return bool(before) and not any(w.startswith(i) for w in before for i in initials)


def _holds(words: Sequence[str], word: str, query: Sequence[str]) -> bool:
    """Whether a name's words hold a set-aside word (an initial: before a word of the query)."""
    if len(word) > 1 or not query:
        return any(is_same_word(word, w) for w in words)
    return any(
        w.startswith(word) and any(word_cost(q, following) is not None for q in query)
        for w, following in pairwise(words)
    )


def best_name_match(
    readings: Iterable[Sequence[str]], names: Iterable[str], extra: Sequence[str] = ()
) -> NameMatch:
    """The strongest match of any reading against any name."""
    best = NameMatch(0.0, 0.0, 0)
    names = tuple(names)
    for reading in readings:
        for name in names:
            match = match_name(reading, name, extra)
            if match.strength > best.strength:
                best = match
    return best


def named_with_type_word(names: Iterable[str], extra: Sequence[str]) -> bool:
    """Whether one of the place's names starts with a word the parser set aside as a type word."""
    words = set(extra)
    return any((name.split() or [""])[0] in words for name in names)


def kind_fits(document: PlaceDocument, terms: frozenset[TermClass]) -> bool | None:
    """Whether the query's type words fit the kind (None when the query had none that tell)."""
    telling = [KIND_FOR_TERM[t] for t in terms if t in KIND_FOR_TERM]
    if not telling:
        return None
    return any(document.kind in kinds for kinds in telling)


def score_hit(
    hit: Hit,
    *,
    cyrillic: Sequence[Sequence[str]],
    latin: Sequence[Sequence[str]],
    terms: frozenset[TermClass],
    extra: Sequence[str] = (),
    initials: Sequence[str] = (),
) -> Scored:
    """Score one hit against the readings of the query; explain the score in ``reasons``."""
    doc = hit.document
    match = best_name_match(cyrillic, [*doc.names, *doc.aliases], extra)
    latin_match = best_name_match(latin, [*doc.names_latin, *doc.aliases_latin], extra)
    if latin_match.strength > match.strength:
        match = latin_match
    address = best_name_match(cyrillic, [doc.address] if doc.address else [])
    by_address = address.strength > match.strength
    match = address if by_address else match
    score = 0.55 * match.query_coverage + 0.30 * match.name_coverage + 0.10 * hit.score
    score -= 0.03 * match.edits
    reasons = [f"words {match.query_coverage:.0%}", f"name {match.name_coverage:.0%}"]
    alias = matched_alias(doc, match, by_address=by_address)
    if by_address:  # a shop on the street is rarely what "Рудаки" means
        score *= ADDRESS_FACTOR
        reasons.append("by address")
    every_name = [*doc.names, *doc.aliases, *doc.names_latin, *doc.aliases_latin]
    query = [word for reading in cyrillic for word in reading]
    if initials_differ(initials, every_name, query):
        score -= INITIAL_PENALTY
        reasons.append("initial differs")
    if extra and (bonus := extra_word_bonus(extra, every_name, query)):
        score += bonus
        reasons.append("type word or initial fits")
    if match.edits:
        reasons.append(f"{match.edits} typo(s)")
    fits = kind_fits(doc, terms)
    if fits is False and named_with_type_word(every_name, extra):
        fits = True  # a mahalla also known as "улица А. Мухторова": the type word is its name's
    if fits is not None:
        score += 0.05 if fits else -0.05
        reasons.append("kind fits" if fits else "kind differs")
    score += min(doc.popularity, 100) / 2000  # at most 0.05: ties go to the better-known place
    return Scored(
        doc,
        round(max(score, 0.0), 4),
        match.query_coverage,
        tuple(reasons),
        edits=match.edits,
        matched_alias=alias,
    )


def matched_alias(doc: PlaceDocument, match: NameMatch, *, by_address: bool) -> str | None:
    """The alias the best match went through, None when it was a current name or the address."""
    if by_address or match.name in (*doc.names, *doc.names_latin):
        return None
    return match.name if match.name in (*doc.aliases, *doc.aliases_latin) else None


def best_per_place(scored: Iterable[Scored]) -> list[Scored]:
    """Keep the best-scored document of each place, best first."""
    best: dict[str, Scored] = {}
    for item in scored:
        current = best.get(item.document.place_id)
        if current is None or item.score > current.score:
            best[item.document.place_id] = item
    return sorted(best.values(), key=lambda s: (-s.score, s.document.place_id))


def scored_readings(scored: Sequence[tuple[Scored, Reading]]) -> Iterator[tuple[str, Reading]]:
    """Pair each document id with the reading that scored it best."""
    for item, reading in scored:
        yield item.document.id, reading


def fit_context(scored: Scored, reading: Reading) -> Scored:
    """Weigh what the rest of a composite address says about a document.

    Words of other parts that nothing explains cost a little each (an unknown organisation's
    name beside the street); a house number speaks against a place that has no houses. A
    district named in the text must be one the place lies in: if it is not, the place may
    still be offered, never answered alone.
    """
    score, reasons, settles = scored.score, list(scored.reasons), scored.settles
    if reading.leftover:
        score -= min(LEFTOVER_PENALTY * reading.leftover, MAX_LEFTOVER_PENALTY)
        reasons.append(f"{reading.leftover} word(s) of other parts")
    if reading.house is not None and scored.document.kind in HOUSELESS_PENALTY:
        score -= HOUSELESS_PENALTY[scored.document.kind]
        reasons.append("has no houses")
    if reading.stage > 1:  # a mahalla or district beside a street that was not found
        settles = False
        reasons.append("context only")
    if reading.sentence and scored.edits:  # "как оплатить штраф" is not a typo of "Шараф"
        settles = False
        reasons.append("typo in a sentence")
    places_in = set(scored.document.district)
    if reading.districts and places_in:
        if places_in & reading.districts:
            score += DISTRICT_BONUS
            reasons.append("district fits")
        else:
            score -= DISTRICT_PENALTY
            settles = False
            reasons.append("district differs")
    if score == scored.score and settles == scored.settles:
        return scored
    return replace(scored, score=round(max(score, 0.0), 4), reasons=tuple(reasons), settles=settles)


def score_all(hits: Sequence[Hit], readings: Sequence[Reading]) -> list[tuple[Scored, Reading]]:
    """Score each distinct document against each reading and keep its best reading."""
    best: dict[str, tuple[Scored, Reading]] = {}
    for hit in hits:
        for reading in readings:
            scored = fit_context(
                score_hit(
                    hit,
                    cyrillic=[reading.cyrillic],
                    latin=[reading.latin],
                    terms=reading.terms,
                    extra=reading.extra,
                    initials=reading.initials,
                ),
                reading,
            )
            current = best.get(hit.document.id)
            if current is None or scored.score > current[0].score:
                best[hit.document.id] = (scored, reading)
    return list(best.values())

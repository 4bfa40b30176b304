"""Scoring and the resolve/ask/give-up decision, without a search engine."""

from __future__ import annotations

import pytest

from resolver.backend import Hit
from resolver.decide import BUTTON_SCORE, decide
from resolver.gazetteer import TermClass
from resolver.index_schema import PlaceDocument
from resolver.rank import (
    Scored,
    match_name,
    score_hit,
    within_one_edit,
    word_cost,
)
from resolver.text.distance import edit_distance


def make_hit(
    place_id: str = "dyu-0013",
    *,
    names: list[str],
    kind: str = "avenue",
    score: float = 0.9,
    latin: list[str] | None = None,
    popularity: int = 0,
) -> Hit:
    """A hit with the fields the scorer reads."""
    document = PlaceDocument(
        id=place_id,
        place_id=place_id,
        kind=kind,
        names=names,
        names_latin=latin or [],
        popularity=popularity,
    )
    return Hit(document=document, score=score)


def score(
    hit: Hit, query: str, *, latin: str = "", terms: frozenset[TermClass] = frozenset()
) -> float:
    """Score a hit for a folded query."""
    return score_hit(hit, cyrillic=[query.split()], latin=[latin.split()], terms=terms).score


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("рудаки", "рудаки", 0),
        ("рудаке", "рудаки", 1),
        ("рдуаки", "рудаки", 1),
        ("рудки", "рудаки", 1),
        ("сомони", "самани", 2),
        ("abc", "xyz", 3),
    ],
)
def test_edit_distance_counts_transpositions_as_one(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, limit=5) == distance


@pytest.mark.parametrize(
    ("query_word", "name_word", "cost"),
    [
        ("45", "46", None),
        ("айни", "айни", 0),
        ("айне", "айни", 1),
        ("вах", "вух", None),
        ("рудаке", "рудаки", 1),
        ("исмоилии", "исмоили", 1),
        ("и", "исмоили", 0),
        ("и", "сомони", None),
    ],
)
def test_words_get_meilisearchs_typo_budget_and_initials_match_word_starts(
    query_word: str, name_word: str, cost: int | None
) -> None:
    assert word_cost(query_word, name_word) == cost


def test_short_name_typed_alone_covers_a_short_name_fully() -> None:
    match = match_name(["сино"], "сино")
    assert (match.query_coverage, match.name_coverage) == (1.0, 1.0)


def test_full_name_outscores_a_name_that_merely_contains_the_word() -> None:
    district = make_hit("dyu-0002", names=["нохияи сино", "сино"], kind="district")
    avenue = make_hit("dyu-0007", names=["хиёбони абуали ибни сино", "абуали ибни сино"])
    assert score(district, "сино") > score(avenue, "сино")


def test_unmatched_query_word_keeps_coverage_below_one() -> None:
    hit = make_hit(names=["рудаки"])
    scored = score_hit(hit, cyrillic=[["москва", "рудаки"]], latin=[[]], terms=frozenset())
    assert scored.query_coverage == 0.5


def test_latin_reading_is_scored_against_latin_keys() -> None:
    hit = make_hit(names=["хиёбони рудаки"], latin=["rudaki"])
    assert score(hit, "rudaki", latin="rudaki") >= 0.85


def test_type_word_that_fits_the_kind_breaks_ties() -> None:
    market = make_hit("dyu-0309", names=["корвон"], kind="market")
    mall = make_hit("dyu-0317", names=["корвон"], kind="mall")
    terms = frozenset({TermClass.MARKET})
    assert score(market, "корвон", terms=terms) > score(mall, "корвон", terms=terms)


def scored(place_id: str, names: list[str], query: str) -> Scored:
    return score_hit(
        make_hit(place_id, names=names), cyrillic=[query.split()], latin=[[]], terms=frozenset()
    )


def test_clear_winner_is_resolved() -> None:
    verdict = decide(
        [scored("dyu-0013", ["рудаки"], "рудаки"), scored("dyu-0320", ["рудаки плаза"], "рудаки")]
    )
    assert verdict.status == "resolved"
    assert verdict.winners[0].document.place_id == "dyu-0013"


def test_two_places_with_the_same_name_are_asked_about() -> None:
    verdict = decide(
        [scored("dyu-0200", ["гулистон"], "гулистон"), scored("dyu-0201", ["гулистон"], "гулистон")]
    )
    assert verdict.status == "ambiguous"
    assert {w.document.place_id for w in verdict.winners} == {"dyu-0200", "dyu-0201"}


def test_text_matching_nothing_well_is_not_found() -> None:
    weak = scored("dyu-0013", ["рудаки"], "привет как дела")
    assert weak.score < BUTTON_SCORE
    assert decide([weak]).status == "not_found"


def test_nothing_at_all_is_not_found() -> None:
    assert decide([]).status == "not_found"


def test_initials_alone_match_no_name() -> None:
    assert match_name(["а"], "ахмади дониш").query_coverage == 0.0


@pytest.mark.parametrize(
    ("a", "b"),
    [("сино", "сина"), ("сино", "сно"), ("сно", "сино"), ("сино", "сниo"), ("айни", "аийн")],
)
def test_fast_one_edit_check_agrees_with_the_full_count(a: str, b: str) -> None:
    assert within_one_edit(a, b) == (edit_distance(a, b, limit=3) == 1)

"""The index settings, as reviewed data (pure: the only input is the gazetteer, for synonyms).

Why each setting is what it is:

- ``searchableAttributes``: current names first, then their Latin keys, then old/informal names,
  then a building's address. The ``attribute`` ranking rule uses this order, so a place whose
  *current* name matches beats one whose *old* name matches, and both beat a shop that merely
  stands on that street. Display names are not searchable: they hold unfolded Tajik letters that
  Meilisearch treats as foreign letters (FIELD_NOTES), and would only add noise.
- ``rankingRules``: Meilisearch's defaults with ``exactness`` moved before ``attribute``, then
  ``popularity:desc`` as the last tie-breaker. The last query word is also matched as a prefix,
  so ``дониш`` (кӯчаи А. Дониш) otherwise ranks below the seventeen ``донишгоҳи …`` universities,
  whose prefix match stands earlier in the name, and falls out of the hits the resolver reads.
  A popularity rule any earlier would let a big avenue with a typo beat a small street spelled
  exactly.
- ``typoTolerance``: ``disableOnNumbers`` so house and microdistrict numbers never fuzz (45 is not
  46, 82 мкр. is not 83). One typo from 4 letters (Tajik street names are short: Айни, Сино,
  Вахш; residents write ``Аини`` for ``Айни``), two from 8. Meilisearch charges a typo on the
  first letter double, which keeps 4-letter matches strict.
- ``synonyms``: only for real aliases that are abbreviations or multi-word names, folded exactly as
  queries are. Single-word aliases are already in the ``aliases`` field, and address-type words
  (ул., кӯчаи, street) are removed by the resolver's parser, so neither needs a synonym. See
  :func:`build_synonyms` for the limits that keep the table from exploding.
- ``stopWords``: none. Candidates such as ``и`` (Russian "and") are the Tajik izofa inside names
  (``Исмоили Сомонӣ``, ``и сомони``) and words like ``назди``/``рядом`` are removed by the parser,
  where their context is known.
- ``separatorTokens``: none. ``fold`` already turns ``№45`` into ``45`` on both sides, and a custom
  separator list cost about 3.5 ms of Meilisearch CPU on every search (measured: 6.55 -> 3.05 ms).
- ``filterableAttributes``: what the resolver and tests filter on (kind, district, sector,
  place). ``sortableAttributes``: ``popularity`` only. ``_geo`` is stored on documents but not
  made sortable: nobody sorts by distance (a shared location is placed in a sector polygon in
  Python, FIELD_NOTES), and a sortable ``_geo`` costs a geo index on every build.
- ``proximityPrecision: byAttribute``: names are 1-4 words, so word distances add little, and
  computing them is the largest single cost of indexing. Measured on the lead's 4,297 labelled
  queries: identical results with ``byWord`` and ``byAttribute`` (3,281 resolved right, 19
  wrong, 211 not found, both); the 100k synthetic build is markedly faster (see the README).
- ``facetSearch``: off (nobody searches facet values; it costs an extra structure per build).
- ``searchCutoffMs``: 1500 ms, under the resolver's 2 s timeout, so that a slow server does not
  keep working on searches the resolver already abandoned.
- ``pagination.maxTotalHits``: the resolver never needs more than a few dozen hits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from index_builder.documents import TypeWords, current_names, fold, latin_key, unique_nonempty
from index_builder.seed.models import AliasKind, Gazetteer, PlaceAlias
from resolver.index_schema import RETURNED_FIELDS
from resolver.published import MAX_DATA_DOCUMENTS
from resolver.rank import ONE_TYPO_FROM, TWO_TYPOS_FROM
from resolver.text.fold import script_of

SEARCHABLE_ATTRIBUTES = ["names", "names_latin", "aliases", "aliases_latin", "address"]
DISPLAYED_ATTRIBUTES = [*RETURNED_FIELDS, "_geo"]
RANKING_RULES = ["words", "typo", "proximity", "exactness", "attribute", "sort", "popularity:desc"]
FILTERABLE_ATTRIBUTES = ["kind", "district", "sector_id", "sector_ids", "place_id"]
SORTABLE_ATTRIBUTES = ["popularity"]
TYPO_TOLERANCE = {
    "enabled": True,
    "minWordSizeForTypos": {"oneTypo": ONE_TYPO_FROM, "twoTypos": TWO_TYPOS_FROM},
    "disableOnNumbers": True,
}
MAX_TOTAL_HITS = 200
# The resolver gives up after 2 s; a search it abandoned should not keep Meilisearch busy longer.
SEARCH_CUTOFF_MS = 1500

# Meilisearch looks a synonym's source up only for phrases of 1-3 query words.
MAX_SYNONYM_WORDS = 3
# A source with more targets than this is a generic word, not an alias: skip it.
MAX_SYNONYM_TARGETS = 4


def index_settings(gazetteer: Gazetteer) -> dict[str, object]:
    """Return the full settings object for ``PATCH /indexes/{uid}/settings``."""
    return {
        "searchableAttributes": SEARCHABLE_ATTRIBUTES,
        "displayedAttributes": DISPLAYED_ATTRIBUTES,
        "rankingRules": RANKING_RULES,
        "filterableAttributes": FILTERABLE_ATTRIBUTES,
        "sortableAttributes": SORTABLE_ATTRIBUTES,
        "typoTolerance": TYPO_TOLERANCE,
        "synonyms": build_synonyms(gazetteer),
        "stopWords": [],
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
        "facetSearch": False,
        "proximityPrecision": "byAttribute",
        "searchCutoffMs": SEARCH_CUTOFF_MS,
    }


def build_synonyms(gazetteer: Gazetteer) -> dict[str, list[str]]:
    """Map abbreviation and multi-word aliases to their place's names, and back for abbreviations.

    ``и сомони`` <-> ``исмоили сомони`` lets ``Исмоили Сомони 6`` find a building whose address
    says ``пр. И. Сомони 6``. Each pair is added in folded Cyrillic and in Latin keys (the two
    forms the resolver searches). Limits: both sides 1-3 words after the type word is cut off
    (Meilisearch ignores longer sources), an alias that belongs to two places is dropped (it would
    point at the wrong one), and a source with more than :data:`MAX_SYNONYM_TARGETS` targets is
    dropped as too generic.
    """
    type_words = TypeWords.from_terms(gazetteer.aliases.terms)
    owners = {alias.place_id for alias in gazetteer.aliases.places}
    names = {
        place.id: short_forms(current_names(place), type_words=type_words)
        for place in gazetteer.places
        if place.id in owners
    }
    pairs: list[tuple[str, str]] = []
    for alias in unambiguous_aliases(gazetteer.aliases.places, type_words=type_words):
        for name in names.get(alias.place_id, ()):
            pairs.extend(synonym_pairs(alias, name))
    return group_synonyms(pairs)


def short_forms(texts: Iterable[str], *, type_words: TypeWords) -> list[str]:
    """Return the folded, type-word-free forms of texts that have at most 3 words."""
    forms = unique_nonempty(type_words.strip(fold(text)) for text in texts)
    return [form for form in forms if len(form.split()) <= MAX_SYNONYM_WORDS]


def unambiguous_aliases(
    aliases: Iterable[PlaceAlias], *, type_words: TypeWords
) -> list[PlaceAlias]:
    """Return abbreviation/multi-word aliases (short folded forms) naming exactly one place."""
    owners: dict[str, set[str]] = {}
    first: dict[str, PlaceAlias] = {}
    for alias in aliases:
        for form in short_forms([alias.alias], type_words=type_words):
            owners.setdefault(form, set()).add(alias.place_id)
            first.setdefault(form, alias.model_copy(update={"alias": form}))
    return [
        first[form]
        for form, places in owners.items()
        if len(places) == 1 and is_synonym_worthy(form, first[form].kind)
    ]


def is_synonym_worthy(form: str, kind: AliasKind) -> bool:
    """Tell whether an alias needs a synonym: abbreviations always, other kinds when multi-word."""
    return kind is AliasKind.ABBREVIATION or len(form.split()) > 1


def synonym_pairs(alias: PlaceAlias, name: str) -> list[tuple[str, str]]:
    """Return the directed (source, target) pairs linking one alias to one name.

    Pairs are made of folded forms and of Latin keys; a pair mixing Cyrillic and Latin (a
    Latin alias of a Cyrillic name) is dropped: the resolver searches each script on its own.
    """
    forward = [(alias.alias, name), (latin_key(alias.alias), latin_key(name))]
    backward = [(target, source) for source, target in forward]
    pairs = forward + backward if alias.kind is AliasKind.ABBREVIATION else forward
    return [
        (source, target)
        for source, target in pairs
        if source and target and source != target and script_of(source) == script_of(target)
    ]


def group_synonyms(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Group pairs by source, sorted, dropping sources with too many targets."""
    grouped: dict[str, set[str]] = {}
    for source, target in pairs:
        grouped.setdefault(source, set()).add(target)
    return {
        source: sorted(targets)
        for source, targets in sorted(grouped.items())
        if len(targets) <= MAX_SYNONYM_TARGETS
    }


def settings_summary(settings: Mapping[str, object]) -> str:
    """Describe the settings in one line for the build log."""
    synonyms = settings.get("synonyms")
    count = len(synonyms) if isinstance(synonyms, dict) else 0
    return f"{len(SEARCHABLE_ATTRIBUTES)} searchable attributes, {count} synonym sources"


# The data index of a version (resolver.published): a few documents read whole by a placeholder
# search, so nothing in them is searchable but their type, and one search may return them all.
DATA_INDEX_SETTINGS: dict[str, object] = {
    "searchableAttributes": ["type"],
    "filterableAttributes": ["type"],
    "displayedAttributes": ["*"],
    "pagination": {"maxTotalHits": MAX_DATA_DOCUMENTS},
}

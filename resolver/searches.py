"""Step 3 of the resolver: the searches for a text's readings.

The likeliest reading is searched first, in the fields of the script the text is in; the rest
(the other script, other parses, a wrong-layout fix) only when that first answer is not a clear
win, so a clean query costs one search.
"""

from __future__ import annotations

from collections.abc import Sequence

from resolver.backend import SearchQuery
from resolver.readings import Reading

SEARCH_LIMIT = 10


def first_query(reading: Reading, *, script: str) -> SearchQuery:
    """The one search tried first: the main reading, in the fields of the text's script."""
    if script == "latin" and reading.latin:
        return SearchQuery(text=" ".join(reading.latin), fields="latin", limit=SEARCH_LIMIT)
    return SearchQuery(text=" ".join(reading.cyrillic), fields="cyrillic", limit=SEARCH_LIMIT)


def queries_for(readings: Sequence[Reading]) -> list[SearchQuery]:
    """One Cyrillic and one Latin search per reading, without repeats."""
    queries: list[SearchQuery] = []
    for reading in readings:
        for query in (
            SearchQuery(text=" ".join(reading.cyrillic), fields="cyrillic", limit=SEARCH_LIMIT),
            SearchQuery(text=" ".join(reading.latin), fields="latin", limit=SEARCH_LIMIT),
        ):
            if query.text and query not in queries:
                queries.append(query)
    return queries

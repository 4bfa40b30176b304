"""Regenerate ``resolver/text/layout_bigrams.py``: the letter-pair counts :func:`fix_layout` uses.

The Cyrillic counts are of the letter pairs (with ``^``/``$`` for word edges) in the Cyrillic
place names of the gazetteer, folded the Russian-keyboard way; the Latin counts are of the
gazetteer's Latin names plus the Latin transliteration of every Cyrillic name. A wrong-layout word
(``helfrb``) is made of pairs that are rare in Latin names, while its ЙЦУКЕН reading (``рудаки``)
is made of common Cyrillic pairs.

Usage:
    python scripts/make_layout_bigrams.py [PLACES_JSONL]             # write the module
    python scripts/make_layout_bigrams.py --evaluate [PLACES_JSONL]  # held-out check

``--evaluate`` trains on the places with an even id and tests on the others: how many Latin name
words would be taken for mistyped Russian (false positives) and how many Cyrillic name words
typed on a QWERTY layout are recovered, at ``MIN_LAYOUT_LIKELIHOOD_GAIN``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolver.text.fold import fold  # noqa: E402
from resolver.text.latin import transliterate_cyrillic  # noqa: E402
from resolver.text.layout import (  # noqa: E402
    CYRILLIC_PAIRS,
    JCUKEN_KEYS,
    LATIN_PAIRS,
    MIN_LAYOUT_LIKELIHOOD_GAIN,
    MIN_LAYOUT_WORD_LETTERS,
    QWERTY_KEYS,
    PairModel,
    edge_bigrams,
    layout_likelihood_gain,
)

DEFAULT_PLACES = ROOT.parent / "shared" / "gazetteer" / "places.jsonl"
TARGET = ROOT / "resolver" / "text" / "layout_bigrams.py"
NAME_FIELDS = ("name_tg", "name_ru", "name_en", "old_names", "alt_names")
LINE_LENGTH = 100
_RUSSIAN_KEYBOARD = str.maketrans("ҳқғҷӣӯё", "хкгчиуе")


def names_of(path: Path, *, parity: int | None = None) -> Iterator[str]:
    """Yield every name and old/alternative name of the places file (of even/odd ids only)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if parity is not None and int(row["id"][-1]) % 2 != parity:
            continue
        for key in NAME_FIELDS:
            value = row.get(key)
            yield from (value if isinstance(value, list) else [value] if value else [])


def words_of(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The Cyrillic words (Russian-keyboard folded) and the Latin words, lower-cased."""
    names = list(names)
    cyrillic = [
        w.lower().translate(_RUSSIAN_KEYBOARD)
        for name in names
        for w in re.findall(r"[\u0400-\u04ff]+", name)
    ]
    latin = [w.lower() for name in names for w in re.findall(r"[A-Za-z]+", name)]
    return cyrillic, latin


def pair_counter(words: Iterable[str]) -> Counter[str]:
    """Count the edge-marked letter pairs of the words."""
    counts: Counter[str] = Counter()
    for word in words:
        counts.update(edge_bigrams(word))
    return counts


def models_of(names: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """Cyrillic pair counts, and Latin ones (Latin names + transliterated Cyrillic names)."""
    cyrillic, latin = words_of(names)
    latin += [transliterate_cyrillic(fold(word)) for word in cyrillic]
    return pair_counter(cyrillic), pair_counter(latin)


def evaluate(path: Path) -> int:
    """Train on even ids, test on odd ids; print false positives and recall."""
    cyrillic_counts, latin_counts = models_of(names_of(path, parity=0))
    cyrillic = PairModel(cyrillic_counts, CYRILLIC_PAIRS.pair_space)
    latin = PairModel(latin_counts, LATIN_PAIRS.pair_space)
    test_cyrillic, test_latin = words_of(names_of(path, parity=1))
    to_qwerty = str.maketrans(JCUKEN_KEYS, QWERTY_KEYS)
    latin_words = {w for w in test_latin if len(w) >= MIN_LAYOUT_WORD_LETTERS}
    typed = {w.translate(to_qwerty) for w in test_cyrillic if len(w) >= MIN_LAYOUT_WORD_LETTERS}

    def converts(word: str) -> bool:
        gain = layout_likelihood_gain(word, cyrillic=cyrillic, latin=latin)
        return gain >= MIN_LAYOUT_LIKELIHOOD_GAIN

    wrong = sorted(w for w in latin_words if converts(w))
    recovered = sum(converts(w) for w in typed)
    print(f"Latin name words taken for mistyped Russian: {len(wrong)}/{len(latin_words)} {wrong}")
    print(f"Cyrillic words typed on QWERTY recovered: {recovered}/{len(typed)}")
    return 0


def pair_counts(counts: Counter[str]) -> list[str]:
    """``pair:count`` for every letter pair, sorted."""
    return [f"{pair}:{count}" for pair, count in sorted(counts.items())]


def render_counts(name: str, pairs: list[str]) -> str:
    """``NAME = _counts("ab:3 ac:1", ...)`` with lines that fit in 100 columns."""
    lines, line = [], ""
    for pair in pairs:
        if len(line) + len(pair) + 1 > LINE_LENGTH - 8:
            lines.append(line)
            line = ""
        line = f"{line} {pair}" if line else pair
    lines.append(line)
    body = "".join(f'    "{text}",\n' for text in lines)
    return f"{name} = _counts(\n{body})\n"


def render(cyrillic: list[str], latin: list[str]) -> str:
    """The Python source of the generated module."""
    return (
        '"""Letter-pair counts of Dushanbe place names, for '
        ":func:`resolver.text.layout.fix_layout`."
        "\n\nGENERATED by scripts/make_layout_bigrams.py from the gazetteer: do not edit by hand.\n"
        '"""\n\n\n'
        "def _counts(*lines: str) -> dict[str, int]:\n"
        '    pairs = (item.rsplit(":", 1) for item in " ".join(lines).split())\n'
        "    return {pair: int(count) for pair, count in pairs}\n\n\n"
        + render_counts("CYRILLIC_PAIR_COUNTS", cyrillic)
        + render_counts("LATIN_PAIR_COUNTS", latin)
    )


def main(argv: list[str]) -> int:
    """Write the module (or evaluate with ``--evaluate``); print the sizes of the two tables."""
    evaluating = "--evaluate" in argv
    paths = [arg for arg in argv if arg != "--evaluate"]
    path = Path(paths[0]) if paths else DEFAULT_PLACES
    if evaluating:
        return evaluate(path)
    cyrillic_counts, latin_counts = models_of(names_of(path))
    cyrillic, latin = pair_counts(cyrillic_counts), pair_counts(latin_counts)
    TARGET.write_text(render(cyrillic, latin), encoding="utf-8")
    print(f"{TARGET}: {len(cyrillic)} Cyrillic and {len(latin)} Latin letter pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

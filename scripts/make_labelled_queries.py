"""Generate the labelled noisy-query set: ``tests/data/labelled_queries.jsonl``.

Each line: ``{"query", "place_id" (null for text naming no Dushanbe place), "house", "noise"}``.
The noise models follow ``shared/reference/tajik_text.md`` §1.3, §1.4, §2, §3.5 and §4.4 and are
written here independently of ``resolver.text`` on purpose: a query set produced by the
resolver's own folding could not catch the resolver's mistakes.

Run: ``python scripts/make_labelled_queries.py [--places PATH] [--out PATH] [--seed N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLACES = ROOT.parent / "shared" / "gazetteer" / "places.jsonl"
DEFAULT_OUT = ROOT / "tests" / "data" / "labelled_queries.jsonl"

TAJIK_TO_RUSSIAN_KEYS = str.maketrans("ҳқғҷӣӯҲҚҒҶӢӮ", "хкгчиуХКГЧИУ")
TAJIK_ON_RUSSIAN_LAYOUT = str.maketrans("қҳҷӣғӯ", "цщыь-=")
RU_TO_QWERTY = dict(
    zip(
        "йцукенгшщзхъфывапролджэячсмитьбю.ё",
        "qwertyuiop[]asdfghjkl;'zxcvbnm,./`",
        strict=True,
    )
)
CYR_TO_LATIN_LOOKALIKE = {
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "х": "x",
    "у": "y",
    "к": "k",
}

BGN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ғ": "gh",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "ӣ": "i",
    "й": "y",
    "к": "k",
    "қ": "q",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ӯ": "u",
    "ф": "f",
    "х": "kh",
    "ҳ": "h",
    "ч": "ch",
    "ҷ": "j",
    "ш": "sh",
    "ъ": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "ц": "ts",
    "ы": "y",
    "ь": "",
    "щ": "shch",
}
INFORMAL = BGN | {"х": "x", "ғ": "g'", "ӯ": "o'", "ҷ": "j", "ё": "yo", "ч": "ch", "ӣ": "iy"}
RUSSIAN_MEDIATED = BGN | {"ҳ": "kh", "қ": "k", "ғ": "g", "ҷ": "dzh", "ж": "zh", "у": "u", "ӯ": "u"}
FRENCH_STYLE = BGN | {"у": "ou", "ӯ": "ou", "ш": "ch", "ч": "tch", "ҷ": "dj", "х": "kh"}
LATIN_SCHEMES = (BGN, INFORMAL, RUSSIAN_MEDIATED, FRENCH_STYLE)

RUSSIAN_ROWS = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
STREET_WORDS_RU = ("ул.", "улица", "ул")
AVENUE_WORDS_RU = ("пр-т", "проспект", "пр.", "просп.")
STREET_WORDS_TG = ("кӯчаи", "кучаи", "к.")
AVENUE_WORDS_TG = ("хиёбони", "хиёбони", "хиёб.")
LATIN_TYPE_WORDS = ("street", "st.", "avenue", "ave", "kuchai", "khiyoboni", "prospekt")
FILLERS_BEFORE = (
    "г. Душанбе, ",
    "Душанбе ",
    "шаҳри Душанбе, ",
    "ш. Душанбе ",
    "где ",
    "рядом ",
    "возле ",
    "назди ",
    "Dushanbe, ",
    "мне нужен участковый ",
    "я живу на ",
)
FILLERS_AFTER = ("?", "!", " ?!", ".", " пожалуйста", ", Душанбе", " г. Душанбе", "!!")
TYPE_WORD = re.compile(
    r"^(кӯчаи|кучаи|хиёбони|улица|ул\.|проспект|пр-т|пр\.|маҳаллаи|махалля|микрорайон|мкр\.?)\s+",
    re.IGNORECASE,
)
NO_PLACE_TEXTS = (
    "Москва, Тверская улица 7",
    "Ташкент, Чиланзар 5 квартал",
    "Самарканд Регистан",
    "Алматы проспект Абая 10",
    "Санкт-Петербург Невский проспект 28",
    "Худжанд улица Ленина 12",
    "Куляб, кӯчаи Исмоили Сомонӣ 3",
    "Бохтар, Вахдат 5",
    "Berlin Alexanderplatz",
    "привет как дела",
    "добрый день",
    "салом алейкум",
    "ассалому алайкум",
    "hello",
    "test",
    "asdfghjkl",
    "qwerty",
    "йцукен",
    "фывапролд",
    "123456",
    "0000",
    "помогите",
    "спасибо",
    "где мой паспорт",
    "как оплатить штраф",
    "погода завтра",
    "курс доллара",
    "🙂🙂🙂",
    "👮",
    "...",
    "???",
    "ок",
    "да",
    "нет",
    "ха-ха",
    "лол",
    "телефон",
    "номер телефона",
    "хочу пожаловаться на соседа",
    "Кремль",
    "Эйфелева башня",
    "Times Square New York",
    "Istanbul Taksim",
    "Москва-Сити",
    "Ходжент",
    "Исфара",
    "Пенджикент центр",
    "Душанбе",
    "г. Душанбе",
    "Dushanbe",
    "Таджикистан",
    "шаҳри Душанбе",
    "Тоҷикистон",
    "Бохтар, кӯчаи Айнӣ 12",
    "Вахдат",
    "Истаравшан центр",
    "Кулоб бозор",
    "Хорог, улица Ленина 5",
    "Бишкек Манас 40",
    "Ашхабад",
    "Кабул",
    "мой сосед шумит",
    "где купить хлеб",
    "сколько стоит такси",
    "номер участкового",
    "!!!",
    "😡😡",
    "ааааа",
    "12",
    "д. 5 кв. 7",
    "улица",
    "кӯчаи",
    "проспект",
)

Label = dict[str, object]
NoiseFn = Callable[[random.Random, dict[str, object]], Iterator[Label]]


def load_places(path: Path) -> list[dict[str, object]]:
    """Read the shared gazetteer."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def clean(name: str) -> str:
    """Drop notes in parentheses and the quote marks, as a resident would not type them."""
    name = re.sub(r"\([^)]*\)", " ", name)
    return re.sub(r"\s+", " ", name.replace("«", "").replace("»", "").replace('"', "")).strip()


def names_of(place: dict[str, object], key: str) -> list[str]:
    """Clean names of one field (a string or a list of strings)."""
    value = place.get(key)
    values = value if isinstance(value, list) else [value]
    return [clean(str(v)) for v in values if v and len(clean(str(v))) >= 3]


def label(
    query: str, place: dict[str, object] | None, noise: str, house: str | None = None
) -> Label:
    """Make one labelled row."""
    return {
        "query": query,
        "place_id": place["id"] if place else None,
        "house": house,
        "noise": noise,
    }


def transliterate(text: str, scheme: dict[str, str]) -> str:
    """Write Cyrillic text in one Latin scheme, keeping the capitalisation of word starts."""
    out = []
    for char in text:
        latin = scheme.get(char.lower(), char)
        out.append(latin.capitalize() if char.isupper() else latin)
    return "".join(out)


def russian_keyboard(text: str) -> str:
    """Type Tajik letters with their Russian-keyboard substitutes (ҳ→х, ҷ→ч ...)."""
    return text.translate(TAJIK_TO_RUSSIAN_KEYS)


def neighbours(char: str) -> str:
    """Keys next to ``char`` on the Russian layout (same row)."""
    for row in RUSSIAN_ROWS:
        index = row.find(char)
        if index >= 0:
            return row[max(index - 1, 0) : index] + row[index + 1 : index + 2]
    return ""


def add_typo(rng: random.Random, text: str) -> str:
    """Make one keyboard typo inside a word long enough to stay recognisable (5+ letters).

    Not the first letter: people rarely miss it, and every fuzzy matcher charges it double.
    """
    words = [m for m in re.finditer(r"\w{5,}", text) if not m.group().isdigit()]
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(word.start() + 1, word.end())
    kind = rng.choice(("substitute", "omit", "double", "transpose"))
    if kind == "substitute" and neighbours(text[i].lower()):
        return text[:i] + rng.choice(neighbours(text[i].lower())) + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    if kind == "transpose" and i + 1 < word.end():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i + 1 :]


def strip_type_word(name: str) -> str:
    """Remove a leading street-type word (улица, кӯчаи ...)."""
    return TYPE_WORD.sub("", name).strip()


def house_forms(rng: random.Random, number: int) -> tuple[str, str]:
    """A house number as people write it, with its expected reading."""
    letter = rng.choice(("а", "б"))
    sub = rng.randint(1, 4)
    forms = (
        (f"{number}", f"{number}"),
        (f"{number}{letter}", f"{number}{letter}"),
        (f"{number} {letter}", f"{number}{letter}"),
        (f"{number}/{sub}", f"{number}/{sub}"),
        (f"д. {number}", f"{number}"),
        (f"дом {number}", f"{number}"),
        (f"хонаи {number}", f"{number}"),
        (f"{number} кв {rng.randint(1, 90)}", f"{number}"),
        (f"{number}, кв. {rng.randint(1, 90)}", f"{number}"),
        (f"{number} корп. {sub}", f"{number}/{sub}"),
        (f"№{number}", f"{number}"),
    )
    return rng.choice(forms)


def tajik_name(place: dict[str, object]) -> str | None:
    """The place's Tajik name, if any."""
    names = names_of(place, "name_tg")
    return names[0] if names else None


def noise_exact_tajik(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """The Tajik name exactly, as the current bot requires."""
    if name := tajik_name(place):
        yield label(name, place, "exact_tajik")


def noise_russian_keyboard(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """The Tajik name typed without Tajik keys."""
    name = tajik_name(place)
    if name and name != russian_keyboard(name):
        yield label(russian_keyboard(name), place, "russian_keyboard")


def noise_russian_name(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """The Russian name, with or without its type word, sometimes in lower case."""
    for name in names_of(place, "name_ru")[:1]:
        text = rng.choice((name, strip_type_word(name), name.lower()))
        yield label(text or name, place, "russian_name")


def noise_latin(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """The name written in Latin letters, in one of the schemes people use."""
    source = tajik_name(place) or next(iter(names_of(place, "name_ru")), None)
    if source:
        text = transliterate(strip_type_word(source) or source, rng.choice(LATIN_SCHEMES))
        yield label(text, place, "latin")
    for name in names_of(place, "name_en")[:1]:
        yield label(name, place, "latin")


def noise_typo(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """One or two keyboard typos in the Russian-keyboard or Russian name."""
    source = next(iter(names_of(place, "name_ru")), None) or tajik_name(place)
    if source and len(strip_type_word(source)) >= 5:
        text = add_typo(rng, russian_keyboard(strip_type_word(source)))
        if max(map(len, text.split())) >= 9 and rng.random() < 0.5:
            text = add_typo(rng, text)  # a second typo where the words are long
        yield label(text, place, "typo")


def noise_wrong_layout(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """Russian text typed with the English layout on, or Tajik typed on the Russian layout."""
    source = next(iter(names_of(place, "name_ru")), None)
    if source and rng.random() < 0.6:
        plain = strip_type_word(source).lower()
        yield label("".join(RU_TO_QWERTY.get(c, c) for c in plain), place, "wrong_layout")
    elif (name := tajik_name(place)) and name != name.translate(TAJIK_ON_RUSSIAN_LAYOUT):
        yield label(name.translate(TAJIK_ON_RUSSIAN_LAYOUT), place, "wrong_layout")


def noise_homoglyph(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """Latin look-alike letters mixed into a Cyrillic name."""
    source = next(iter(names_of(place, "name_ru")), None) or tajik_name(place)
    if not source:
        return
    chars = list(russian_keyboard(source))
    swappable = [i for i, c in enumerate(chars) if c in CYR_TO_LATIN_LOOKALIKE]
    for i in rng.sample(swappable, k=min(len(swappable), 2)):
        chars[i] = CYR_TO_LATIN_LOOKALIKE[chars[i]]
    if swappable:
        yield label("".join(chars), place, "homoglyph")


def noise_old_name(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """A former (often Soviet) name, still used by residents."""
    for name in names_of(place, "old_names")[:2]:
        yield label(name, place, "old_name")


def noise_alt_name(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """Another spelling the sources give."""
    for name in names_of(place, "alt_names")[:2]:
        yield label(name, place, "alt_name")


def noise_house_number(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """A street with a house number in one of the forms people write, sometimes house first."""
    if place["kind"] not in ("street", "avenue"):
        return
    for _ in range(3):
        source = rng.choice(
            [n for n in (tajik_name(place), *names_of(place, "name_ru")) if n] or [None]  # type: ignore[list-item]
        )
        if not source:
            return
        number = rng.choice((rng.randint(1, 40), rng.randint(1, 200)))
        house_text, house = house_forms(rng, number)
        name = russian_keyboard(source) if rng.random() < 0.5 else source
        text = (
            f"{name} {house_text}" if rng.random() < 0.85 else f"{number} {strip_type_word(name)}"
        )
        yield label(text, place, "house_number", house if text.startswith(name) else str(number))


def noise_filler(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """Extra words around the name: city, prepositions, punctuation."""
    source = next(iter(names_of(place, "name_ru")), None) or tajik_name(place)
    if source:
        text = rng.choice(FILLERS_BEFORE) + russian_keyboard(source) + rng.choice(FILLERS_AFTER)
        yield label(text, place, "filler")


def noise_type_word(rng: random.Random, place: dict[str, object]) -> Iterator[Label]:
    """A street or avenue with another type word or an abbreviation, in any script."""
    if place["kind"] not in ("street", "avenue"):
        return
    source = tajik_name(place) or next(iter(names_of(place, "name_ru")), None)
    if not source:
        return
    bare = russian_keyboard(strip_type_word(source))
    words = {
        "street": STREET_WORDS_RU + STREET_WORDS_TG,
        "avenue": AVENUE_WORDS_RU + AVENUE_WORDS_TG,
    }[str(place["kind"])]
    yield label(f"{rng.choice(words)} {bare}", place, "type_word")
    latin = transliterate(strip_type_word(source), rng.choice(LATIN_SCHEMES))
    yield label(f"{latin} {rng.choice(LATIN_TYPE_WORDS)}", place, "type_word")


NOISES: tuple[NoiseFn, ...] = (
    noise_exact_tajik,
    noise_russian_keyboard,
    noise_russian_name,
    noise_latin,
    noise_typo,
    noise_wrong_layout,
    noise_homoglyph,
    noise_old_name,
    noise_alt_name,
    noise_house_number,
    noise_filler,
    noise_type_word,
)


def generate(places: list[dict[str, object]], *, seed: int) -> list[Label]:
    """Produce every labelled query for the gazetteer, deterministic for a given seed."""
    rng = random.Random(seed)
    rows = [row for place in places for noise in NOISES for row in noise(rng, place)]
    rows += [label(text, None, "no_place") for text in NO_PLACE_TEXTS]
    return dedupe(rows)


def dedupe(rows: list[Label]) -> list[Label]:
    """Keep the first row of each identical (query, place) pair."""
    seen: set[tuple[object, object]] = set()
    unique = []
    for row in rows:
        key = (str(row["query"]).lower(), row["place_id"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def main() -> None:
    """Write the labelled set."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--places", type=Path, default=DEFAULT_PLACES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=20251129)
    args = parser.parse_args()
    rows = generate(load_places(args.places), seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} labelled queries -> {args.out}")


if __name__ == "__main__":
    main()

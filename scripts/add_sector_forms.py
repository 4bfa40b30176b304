"""Give every sector of ``seed/sectors.yaml`` its name and office address in tg, ru and en.

Run once (``python scripts/add_sector_forms.py``); it rewrites ``seed/sectors.yaml`` in place and
leaves a sector that already has ``office_address_en`` alone. Sectors and offices are FICTIONAL;
the names come from the real places they were named after:

- ``name_tg``/``name_ru``/``name_en``: the area in the sector's ``name`` ("…, участок 8
  (Бинокорон)"), taken from the mahalla or microdistrict of ``places.yaml`` with that name. A form
  the place lacks is derived: ``N микрорайон`` is ``маҳаллаи N`` / ``N microdistrict``
  (tajik_text.md §3.2, §3.4), a Tajik form falls back to the Russian one for a proper name, an
  English form is the Tajik (else Russian) one romanised (§2.2).
- ``office_address_en``: the office street's ``name_en`` in ``places.yaml`` (found by its Tajik
  or Russian name), else the Tajik street name romanised with ``Street``/``Avenue``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

SEED = Path(__file__).resolve().parent.parent / "seed"
_AREA = re.compile(r"\((?P<area>.+)\)\s*$")
_NUMBERED = re.compile(r"^(?P<n>\d+[А-Яа-я]?) микрорайон$")
_NUMBERED_TG = re.compile(r"^(маҳаллаи|шаҳраки) №?(?P<n>\d+[А-Яа-я]?)$")
_ADDRESS_TG = re.compile(r"^(?P<street>.+?)\s+(?P<house>\d+\S*)$")
_ROMAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "gh", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "ӣ": "i", "й": "y", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ӯ": "u", "ф": "f", "х": "kh",
    "ҳ": "h", "ц": "ts", "ч": "ch", "ҷ": "j", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
NAME_KEYS = ("name_tg", "name_ru", "name_en")
_GENERIC_EN = {"кӯчаи": "Street", "хиёбони": "Avenue"}
# Tajik letters Russian spelling does without (tajik_text.md §1.2, §2.4).
_TAJIK_TO_RUSSIAN = str.maketrans(
    {"ҳ": "х", "Ҳ": "Х", "қ": "к", "Қ": "К", "ғ": "г", "Ғ": "Г", "ӣ": "и", "ӯ": "у", "Ӯ": "У"}
    | {"ҷ": "дж", "Ҷ": "Дж"}
)


def romanise(text: str) -> str:
    """Write Tajik or Russian Cyrillic in the Latin letters of English-language sources."""
    out = []
    for char in text:
        latin = _ROMAN.get(char.lower(), char)
        out.append(latin.capitalize() if char.isupper() else latin)
    return "".join(out)


def places_by_name(places: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Index places by each of their Tajik and Russian names."""
    index: dict[str, dict[str, Any]] = {}
    for place in places:
        for key in ("name_tg", "name_ru"):
            if place.get(key):
                index.setdefault(place[key], place)
    return index


def area_forms(area: str, places: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The area's name in tg, ru and en."""
    place = places.get(area, {})
    tg_numbered = _NUMBERED_TG.match(place.get("name_tg") or area)
    ru = place.get("name_ru") or (
        f"{tg_numbered['n']} микрорайон" if tg_numbered else area.translate(_TAJIK_TO_RUSSIAN)
    )
    numbered = _NUMBERED.match(ru)
    tg = place.get("name_tg") or (f"маҳаллаи {numbered['n']}" if numbered else ru)
    number = romanise(numbered["n"]).upper() if numbered else ""
    en = place.get("name_en") or (f"{number} microdistrict" if numbered else romanise(tg))
    en = en.removesuffix(" district")  # on a card "district" means a ноҳия
    return {"name_tg": tg, "name_ru": ru, "name_en": en}


def office_en(address_tg: str, places: dict[str, dict[str, Any]]) -> str:
    """The office address in English: the street's own English name, then the house."""
    match = _ADDRESS_TG.match(address_tg)
    assert match, address_tg
    street, house = match["street"], match["house"]
    place = places.get(street, {})
    if place.get("name_en"):
        return f"{place['name_en']}, {house}"
    generic, _, name = street.partition(" ")
    return f"{romanise(name)} {_GENERIC_EN.get(generic, '')}".strip() + f", {house}"


def forms_for(sector: dict[str, Any], places: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The new fields of one sector."""
    forms: dict[str, str] = {}
    area = _AREA.search(sector["name"])
    if area:
        forms |= area_forms(area["area"], places)
    forms["office_address_en"] = office_en(sector["office_address_tg"], places)
    return forms


def rewrite(text: str, forms: dict[str, dict[str, str]]) -> str:
    """Insert each sector's forms after its ``name:`` and ``office_address_ru:`` lines."""
    out: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        out.append(line)
        if line.startswith("- id: "):
            current = line.removeprefix("- id: ").strip()
        new = forms.get(current or "", {})
        if line.startswith("  name: "):
            out += [f"  {key}: {new[key]}" for key in NAME_KEYS if key in new]
        if line.startswith("  office_address_ru: ") and "office_address_en" in new:
            out.append(f"  office_address_en: {new['office_address_en']}")
    return "\n".join(out) + "\n"


def main() -> None:
    """Rewrite ``seed/sectors.yaml`` with the derived forms."""
    places = places_by_name(yaml.safe_load((SEED / "places.yaml").read_text())["places"])
    path = SEED / "sectors.yaml"
    text = path.read_text(encoding="utf-8")
    sectors = yaml.safe_load(text)["sectors"]
    forms = {s["id"]: forms_for(s, places) for s in sectors if "office_address_en" not in s}
    path.write_text(rewrite(text, forms), encoding="utf-8")


if __name__ == "__main__":
    main()

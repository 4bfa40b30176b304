"""Message catalogues: every text the bot sends, in Tajik, Russian and English.

The YAML files next to this module map a message key to an HTML template with ``{named}``
placeholders. :class:`Catalogue` is a pure value; :func:`load_catalogue` is the one place that reads
the files. Callers escape user text before it reaches :meth:`Catalogue.text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from resolver.errors import NoziriError

LANGUAGES: Final = ("tg", "ru", "en")
DEFAULT_LANGUAGE: Final = "en"
# Telegram clients in these languages usually read Russian better than English.
RUSSIAN_READERS: Final = frozenset({"ru", "uk", "be", "kk", "ky", "uz"})
CATALOGUE_DIR: Final = Path(__file__).resolve().parent


class CatalogueError(NoziriError, ValueError):
    """A catalogue file is missing, malformed or lacks keys the others have."""


@dataclass(frozen=True)
class Catalogue:
    """Message templates by language and key."""

    messages: dict[str, dict[str, str]]

    def text(self, lang: str, key: str, **values: object) -> str:
        """Return message ``key`` in ``lang`` with ``values`` filled in (already escaped)."""
        template = self.messages.get(lang, self.messages[DEFAULT_LANGUAGE])[key]
        return template.format(**values) if values else template

    def has(self, key: str) -> bool:
        """Tell whether every language defines ``key``."""
        return all(key in table for table in self.messages.values())


def pick_language(language_code: str | None) -> str:
    """Choose tg, ru or en from a Telegram user's ``language_code`` (e.g. ``ru-RU``)."""
    base = (language_code or "").split("-")[0].lower()
    if base == "tg":
        return "tg"
    return "ru" if base in RUSSIAN_READERS else DEFAULT_LANGUAGE


def load_catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    """Read ``tg.yaml``, ``ru.yaml`` and ``en.yaml`` and check they define the same keys."""
    messages = {lang: read_messages(directory / f"{lang}.yaml") for lang in LANGUAGES}
    check_same_keys(messages)
    return Catalogue(messages=messages)


def read_messages(path: Path) -> dict[str, str]:
    """Read one catalogue file into a key -> template mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read the message catalogue: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise CatalogueError(f"{path}: expected a mapping of message keys to strings")
    return {str(key): value for key, value in data.items()}


def check_same_keys(messages: dict[str, dict[str, str]]) -> None:
    """Raise if one language lacks a key another language has."""
    every_key = set().union(*(table.keys() for table in messages.values()))
    for lang, table in messages.items():
        missing = sorted(every_key - table.keys())
        if missing:
            raise CatalogueError(f"bot/i18n/{lang}.yaml lacks keys {missing}: add them")

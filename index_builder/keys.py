"""The search-only API key the resolver and the bot use: create it, keep it, rotate it.

The key may only ``search``, only on the live pair of indexes (``noziri_*`` for the default names:
the places and their data index, :func:`resolver.published.data_index_name`), and
cannot write documents, change settings or read ``/keys``. It is found by its name
``noziri-search``; the first one gets the fixed uid ``uuid5(NAMESPACE_URL, "noziri-search")``.

Meilisearch derives a key's *value* from its uid and the master key, so deleting and re-creating
a key with the same uid gives back the same value. Rotation (``--rotate-search-key``) therefore
deletes the old key and creates one with a fresh random uid: a new value, same name. Widening a
key to a new index name re-creates it under its old uid: the value residents' bots hold stays
valid.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import SecretStr

from index_builder.admin import MeiliAdmin
from resolver.published import data_index_name

SEARCH_KEY_NAME = "noziri-search"
SEARCH_KEY_UID = str(uuid.uuid5(uuid.NAMESPACE_URL, SEARCH_KEY_NAME))
SEARCH_ACTIONS = ["search"]
DEFAULT_PATTERN = "noziri_*"

KeyStatus = Literal["created", "kept", "widened", "rotated"]


@dataclass(frozen=True)
class SearchKey:
    """The search-only key after a build."""

    uid: str
    key: SecretStr
    indexes: tuple[str, ...]
    status: KeyStatus

    def describe(self) -> str:
        """Say what happened to the key, without its value."""
        return (
            f"search key {SEARCH_KEY_NAME!r} {self.status} "
            f"(uid {self.uid}, search only on {', '.join(self.indexes)})"
        )


def key_indexes(live: str) -> list[str]:
    """Return the index patterns the key covers: ``noziri_*`` for default names, else the pair."""
    if fnmatchcase(live, DEFAULT_PATTERN):
        return [DEFAULT_PATTERN]
    return [live, data_index_name(live)]


def merged_indexes(existing: Sequence[Mapping[str, Any]], *, live: str) -> list[str]:
    """Return the patterns a new key must cover: the old keys' patterns plus the live index."""
    patterns = {pattern for key in existing for pattern in key.get("indexes") or ()}
    return sorted(patterns | set(key_indexes(live)))


def key_options(uid: str, indexes: Sequence[str]) -> dict[str, object]:
    """Return the body of ``POST /keys`` for the search key."""
    return {
        "uid": uid,
        "name": SEARCH_KEY_NAME,
        "description": "Noziri resolver and bot: search only (created by index_builder)",
        "actions": SEARCH_ACTIONS,
        "indexes": list(indexes),
        "expiresAt": None,
    }


def find_search_keys(keys: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return the keys that are ours: named ``noziri-search`` or holding the fixed uid."""
    return [
        key
        for key in keys
        if key.get("name") == SEARCH_KEY_NAME or key.get("uid") == SEARCH_KEY_UID
    ]


def covers(key: Mapping[str, Any], live: str) -> bool:
    """Tell whether a key is search-only, never expires, and reaches the live pair of indexes."""
    patterns = key.get("indexes") or []
    return (
        list(key.get("actions") or []) == SEARCH_ACTIONS
        and key.get("expires_at") is None
        and all(
            any(fnmatchcase(uid, pattern) for pattern in patterns)
            for uid in (live, data_index_name(live))
        )
    )


def plan_key(
    existing: Sequence[Mapping[str, Any]], *, live: str, rotate: bool, uid: str | None = None
) -> tuple[KeyStatus, str]:
    """Decide whether to keep, create, widen or rotate the key; return (status, uid).

    ``uid`` asks for the key of that uid (another replica's: the same uid and master key give
    the same value on every replica).
    """
    if rotate:
        return "rotated", uid or str(uuid.uuid4())
    if not existing:
        return "created", uid or SEARCH_KEY_UID
    if uid is not None and all(str(key["uid"]) != uid for key in existing):
        return "rotated", uid
    if len(existing) == 1 and covers(existing[0], live):
        return "kept", str(existing[0]["uid"])
    return "widened", str(existing[0]["uid"])


def ensure_search_key(
    admin: MeiliAdmin, *, live: str, rotate: bool = False, uid: str | None = None
) -> SearchKey:
    """Make sure a search-only key for ``live`` exists (rotating it if asked) and return it.

    With ``uid`` the key gets that uid (the one of another replica), replacing one of another.
    """
    existing = find_search_keys(admin.list_keys())
    status, uid = plan_key(existing, live=live, rotate=rotate, uid=uid)
    if status == "kept":
        key = existing[0]
    else:
        for old in existing:
            admin.delete_key(str(old["uid"]))
        key = admin.create_key(key_options(uid, merged_indexes(existing, live=live)))
    return SearchKey(
        uid=str(key["uid"]),
        key=SecretStr(str(key["key"])),
        indexes=tuple(key.get("indexes") or ()),
        status=status,
    )

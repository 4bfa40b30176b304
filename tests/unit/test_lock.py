"""The hashed lock files cover pyproject.toml: every dependency pinned, in range, with hashes.

``scripts/lib.sh`` installs only what the lock files pin (``pip install --require-hashes``), so a
dependency added to pyproject.toml without ``bash scripts/lock.sh`` would be missing on a fresh
machine. This test says so before CI's fresh install does.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)
_ENTRY = re.compile(r"^[A-Za-z0-9][^\n]*?==[^\n]*(?:\n[ \t]+[^\n]*)*", re.MULTILINE)


def pins(lock: Path) -> dict[str, Version]:
    """The pinned version of every package in a lock file."""
    text = lock.read_text(encoding="utf-8")
    return {canonicalize_name(name): Version(v) for name, v in _PIN.findall(text)}


def wanted(extra: str | None) -> list[Requirement]:
    """The requirements of the package, plus those of ``extra``."""
    names = list(PROJECT["dependencies"])
    if extra:
        names += PROJECT["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


LOCKS = {"requirements/lock.txt": None, "requirements/test-lock.txt": "test"}


@pytest.mark.parametrize(("lock", "extra"), LOCKS.items())
def test_every_dependency_is_pinned_within_its_range(lock: str, extra: str | None) -> None:
    pinned = pins(ROOT / lock)
    for requirement in wanted(extra):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock}: run bash scripts/lock.sh"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement}: run bash scripts/lock.sh"
        )


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_hashes(lock: str) -> None:
    entries = _ENTRY.findall((ROOT / lock).read_text(encoding="utf-8"))
    assert entries
    for entry in entries:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_build_backend_is_pinned_too() -> None:
    for lock in LOCKS:
        assert "setuptools" in pins(ROOT / lock), f"{lock} lacks setuptools (editable install)"

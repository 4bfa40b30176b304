"""``python -m resolver "кӯчаи Айнӣ 45"``: resolve text to an inspector; ``--batch`` for JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.console import Console

from resolver.bootstrap import open_resolver
from resolver.errors import NoziriError
from resolver.models import Candidate, Resolution, Status
from resolver.service import Resolver
from search_platform.server import exit_cleanly_on_sigterm
from search_platform.settings import MeiliSettings, read_settings


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    """The batch format of one candidate."""
    officer = candidate.officer
    return {
        "place_id": candidate.place_id,
        "name": candidate.name,
        "kind": candidate.kind,
        "district": candidate.district,
        "sector_id": candidate.sector.id if candidate.sector else None,
        "officer": officer.model_dump() if officer else None,
        "score": candidate.score,
    }


def resolution_json(resolution: Resolution) -> dict[str, Any]:
    """The batch format: query, status, house, candidates and the address parts read."""
    return {
        "query": resolution.query,
        "status": resolution.status.value,
        "house": resolution.house.label() if resolution.house else None,
        "candidates": [candidate_json(c) for c in resolution.candidates],
        "parts": resolution.parts.model_dump(exclude_none=True),
    }


def describe_candidate(candidate: Candidate) -> list[str]:
    """Two readable lines for one candidate: the place, then its sector and inspector."""
    houses = ""
    if candidate.house_start:
        parity = "" if candidate.house_parity in (None, "all") else f" {candidate.house_parity}"
        houses = f", houses {candidate.house_start}–{candidate.house_end or '…'}{parity}"
    where = ", ".join(candidate.district) or "district not given"
    old = f" (old name “{candidate.matched_old_name}”)" if candidate.matched_old_name else ""
    lines = [f"{candidate.name}{houses}{old}  [{candidate.place_id}, {candidate.kind}, {where}]"]
    officer = candidate.officer
    if candidate.sector and officer:
        lines.append(
            f"    sector {candidate.sector.id}: {distinct_names(officer.name_ru, officer.name_tg)} "
            f"({officer.rank.replace('_', ' ')}, fictional), {officer.phone}, "
            f"office {candidate.sector.office_address_ru}, hours {officer.reception_hours}"
        )
    else:
        lines.append("    split between sectors: add the house number")
    return lines


def distinct_names(*names: str) -> str:
    """Join a person's spellings with " / ", each once ("Азамат Каримов", not twice)."""
    return " / ".join(dict.fromkeys(names))


def print_resolution(resolution: Resolution, console: Console) -> None:
    """Show a resolution as a person would want to read it."""
    house = f", house {resolution.house.label()}" if resolution.house else ""
    console.print(f"[bold]{resolution.status.value}[/bold] (read as “{resolution.reading}”{house})")
    parts = resolution.parts.model_dump(exclude_none=True, exclude={"elsewhere"})
    if parts:
        console.print("parts: " + ", ".join(f"{key} {value}" for key, value in parts.items()))
    if resolution.parts.elsewhere:
        console.print(
            f"Not in Dushanbe ({resolution.parts.elsewhere}): this service covers Dushanbe."
        )
        return
    if resolution.status is Status.NOT_FOUND:
        console.print("No Dushanbe place matches. Try a street or building name, e.g. “Рудаки 45”.")
        return
    for number, candidate in enumerate(resolution.candidates, 1):
        prefix = "" if resolution.status is Status.RESOLVED else f"{number}. "
        for line in describe_candidate(candidate):
            console.print(prefix + line, markup=False, highlight=False, soft_wrap=True)
            prefix = " " * len(prefix)


def run_batch(resolver: Resolver, lines: Iterable[str], out: TextIO) -> int:
    """Resolve one query per input line, writing one JSON object per line, in order."""
    for line in lines:
        text = line.rstrip("\n")
        out.write(json.dumps(resolution_json(resolver.resolve(text)), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    parser = argparse.ArgumentParser(prog="python -m resolver", description=__doc__)
    parser.add_argument("text", nargs="*", help="where you live or are, in any script")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument(
        "--batch", action="store_true", help="read queries from stdin, one per line"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; exit 1 on a setup, seed or configuration problem, with its message."""
    args = build_parser().parse_args(argv)
    if not args.batch and not args.text:
        build_parser().error("give a text to resolve, or --batch")
    exit_cleanly_on_sigterm()
    try:
        with open_resolver(read_settings(MeiliSettings)) as resolver:
            if args.batch:
                return run_batch(resolver, sys.stdin, sys.stdout)
            resolution = resolver.resolve(" ".join(args.text))
            if args.json:
                print(json.dumps(resolution_json(resolution), ensure_ascii=False, indent=2))
            else:
                print_resolution(resolution, Console())
    except NoziriError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

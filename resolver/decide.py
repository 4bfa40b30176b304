"""Step 5 of the resolver: resolve, ask, or give up, from the scores (pure).

A place is ``resolved`` only when every query word is accounted for, the score is high and no
other place comes close; otherwise close places become buttons, or the answer is ``not_found``.
After linking, a resolved answer that still is not one place in one sector becomes ``ambiguous``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolver.models import Candidate, Status
from resolver.rank import Scored

RESOLVE_SCORE = 0.82  # the winner's score must reach this ...
RESOLVE_MARGIN = 0.10  # ... and beat the next place by this much
BUTTON_SCORE = 0.45  # places below this are not offered at all
BUTTON_WINDOW = 0.25  # buttons: places within this distance of the winner
MAX_BUTTONS = 5


@dataclass(frozen=True)
class Verdict:
    """What the scores say: the status and the places to show, best first."""

    status: str  # "resolved" | "ambiguous" | "not_found"
    winners: tuple[Scored, ...]


def decide(places: Sequence[Scored]) -> Verdict:
    """Resolve, ask, or give up, from the best document of each place (best first)."""
    offered = [p for p in places if p.score >= BUTTON_SCORE]
    if not offered:
        return Verdict("not_found", ())
    top = offered[0]
    runner_up = offered[1].score if len(offered) > 1 else 0.0
    if (
        top.settles
        and top.query_coverage == 1.0
        and top.score >= RESOLVE_SCORE
        and top.score - runner_up >= RESOLVE_MARGIN
    ):
        return Verdict("resolved", (top,))
    close = [p for p in offered if top.score - p.score <= BUTTON_WINDOW]
    return Verdict("ambiguous", tuple(close[:MAX_BUTTONS]))


def settle(verdict: Verdict, candidates: Sequence[Candidate], *, fallback: bool) -> Status:
    """The final status: resolved only for one linked candidate with a sector, read for sure."""
    status = Status(verdict.status)
    unsettled = len(candidates) != 1 or candidates[0].sector is None or fallback
    return Status.AMBIGUOUS if status is Status.RESOLVED and unsettled else status


def is_doubtful(verdict: Verdict) -> bool:
    """A first-round winner whose kind differs from the type word ("кӯчаи Крупская 1" found a
    microdistrict "Крупская-1"): the other readings are searched before answering."""
    return verdict.status == "resolved" and "kind differs" in verdict.winners[0].reasons

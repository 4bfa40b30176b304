"""Edit distance between folded words, for typo matching (parse, rank)."""

from __future__ import annotations


def edit_distance(a: str, b: str, *, limit: int) -> int:
    """Levenshtein distance with adjacent transposition, cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]

""""Did you mean …?" for a misspelt key, id or name (difflib's close matches)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `word`, if one is close enough to be a likely misspelling."""
    found = difflib.get_close_matches(str(word), sorted(set(candidates)), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str], hint: str = "") -> str:
    """`hint`, led by "did you mean 'X'?" when a candidate is close to `word`."""
    match = closest(word, candidates)
    if match is None or match == word:
        return hint
    return f"did you mean '{match}'? {hint}".strip()

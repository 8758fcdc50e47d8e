""""Did you mean …?" for a misspelt key, id or name (difflib's close matches)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `word`, if one is close enough to be a likely misspelling.
    Remembered: a note that repeats one unknown id thousands of times costs one search."""
    return _closest(str(word), frozenset(candidates))


@lru_cache(maxsize=4096)
def _closest(word: str, candidates: frozenset[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str], hint: str = "") -> str:
    """`hint`, led by "did you mean 'X'?" when a candidate is close to `word`."""
    match = closest(word, candidates)
    if match is None or match == word:
        return hint
    return f"did you mean '{match}'? {hint}".strip()

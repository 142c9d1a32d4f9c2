"""Catalog problems: one per thing wrong, all collected before anything is billed."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogProblem:
    """One thing wrong with the catalog: the file, the object it concerns, and what is wrong.

    `object_id` is the bare id (for nested objects `<plan_id>.<rate_card_id>`); `kind` names
    what the id is (`usage_meter`, `rate_card`, `account`, ...) and only shapes the message.
    """

    file: str
    object_id: str
    problem: str
    kind: str = ""

    def __str__(self) -> str:
        if self.object_id and self.kind:
            return f"{self.file}: {self.kind} '{self.object_id}': {self.problem}"
        if self.object_id:
            return f"{self.file}: {self.object_id}: {self.problem}"
        return f"{self.file}: {self.problem}"


class CatalogError(Exception):
    """The catalog failed validation; `problems` lists every problem found, not only the first."""

    def __init__(self, problems: Iterable[CatalogProblem]):
        self.problems: list[CatalogProblem] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or '' when nothing is close."""
    if not isinstance(word, str):
        return ""
    scored = []
    for candidate in sorted(set(candidates)):
        ratio = difflib.SequenceMatcher(None, word, candidate).ratio()
        if ratio >= 0.6:
            # Ties go to the longer common prefix: 'EUX' is EUR, not UGX.
            prefix = len(os.path.commonprefix([word, candidate]))
            scored.append((ratio, prefix, candidate))
    if not scored:
        return ""
    return f" (did you mean '{max(scored, key=lambda s: (s[0], s[1]))[2]}'?)"

"""Catalog problems: one per thing wrong, all collected before anything is billed."""

from __future__ import annotations

import difflib
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
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""

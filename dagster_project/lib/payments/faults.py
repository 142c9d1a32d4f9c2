"""Fault injection for tests and drills (TALLYHOUSE_PAYMENT_FAULTS).

`create_payment_intent:error:2,confirm_payment_intent:lost_response:1,record_payment:crash:1`
reads: in every workflow run of this process, fail the first two tries of
`create_payment_intent` before it reaches the provider; perform the first try of
`confirm_payment_intent` and then lose its response; end the process abruptly right after
the first `record_payment` has been performed and logged. The faults sit in the engine,
around the provider call, so they work alike with every provider.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

ACTIONS = (
    "ensure_customer",
    "create_payment_intent",
    "confirm_payment_intent",
    "record_payment",
)
FAULT_KINDS = ("error", "lost_response", "crash")
# A crash ends the process with this status (EX_SOFTWARE), so a drill can tell it apart.
CRASH_EXIT_CODE = 70
SETTING = "TALLYHOUSE_PAYMENT_FAULTS"


class FaultSpecError(ValueError):
    """A TALLYHOUSE_PAYMENT_FAULTS entry that cannot be read."""


@dataclass(frozen=True)
class Fault:
    action: str
    kind: str
    times: int


def parse_faults(text: str | None) -> tuple[Fault, ...]:
    """`action:kind:times` entries separated by commas; an empty text means no faults."""
    faults = []
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) != 3:
            raise FaultSpecError(f"{SETTING}: {entry!r} is not 'action:kind:times'")
        action, kind, times = (p.strip() for p in parts)
        if action not in ACTIONS:
            raise FaultSpecError(
                f"{SETTING}: {entry!r}: unknown action {action!r} (one of {', '.join(ACTIONS)})"
            )
        if kind not in FAULT_KINDS:
            raise FaultSpecError(
                f"{SETTING}: {entry!r}: unknown fault {kind!r} (one of {', '.join(FAULT_KINDS)})"
            )
        if not times.isdigit() or int(times) < 1:
            raise FaultSpecError(f"{SETTING}: {entry!r}: times must be a positive integer")
        faults.append(Fault(action, kind, int(times)))
    return tuple(faults)


class InjectedError(Exception):
    """The provider error a drill asked for (raised before the provider is called)."""


class FaultInjector:
    """Counts each fault per (workflow run, action) within this process; a crash fires at
    most `times` times per process (the first one ends it)."""

    def __init__(self, faults: tuple[Fault, ...] = (), exit=os._exit):
        self._budget = {(f.action, f.kind): f.times for f in faults}
        self._used: Counter = Counter()
        self._crashes: Counter = Counter()
        self._exit = exit

    def _take(self, run_id: str, action: str, kind: str) -> bool:
        budget = self._budget.get((action, kind), 0)
        if self._used[(run_id, action, kind)] >= budget:
            return False
        self._used[(run_id, action, kind)] += 1
        return True

    def before_call(self, run_id: str, action: str) -> None:
        if self._take(run_id, action, "error"):
            raise InjectedError(f"injected provider error before {action}")

    def lose_response(self, run_id: str, action: str) -> bool:
        return self._take(run_id, action, "lost_response")

    def after_logged(self, action: str) -> None:
        budget = self._budget.get((action, "crash"), 0)
        if self._crashes[action] < budget:
            self._crashes[action] += 1
            self._exit(CRASH_EXIT_CODE)

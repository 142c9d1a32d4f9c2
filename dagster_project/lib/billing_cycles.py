"""The billing-cycle calendar: cycles in the account's timezone, cut by plan assignments."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa

Interval = Literal["WEEKLY", "MONTHLY", "QUARTERLY", "ANNUALLY"]

# Months between cycle starts for the month-anchored intervals.
_MONTHS_PER_CYCLE = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUALLY": 12}

# Shares and day counts are held at a fixed 18 decimal places so that the Python value
# is exactly what lands in the DECIMAL(38,18) columns: no second rounding on insert.
FRACTION_PLACES = 18
_FRACTION_SCALE = 10**FRACTION_PLACES
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class BillingCycleSpec:
    interval: Interval
    anchor_day: int = 1  # MONTHLY/QUARTERLY/ANNUALLY; past a month's end means its last day
    anchor_month: int = 1  # QUARTERLY/ANNUALLY: a month the cycles start in
    anchor_weekday: int = 1  # WEEKLY: 1 = Monday … 7 = Sunday
    grace_period_days: int = 0

    def __post_init__(self) -> None:
        # A StrEnum from the catalog models is stored as its plain value.
        object.__setattr__(self, "interval", str(self.interval))
        if self.interval != "WEEKLY" and self.interval not in _MONTHS_PER_CYCLE:
            raise ValueError(f"unknown billing interval {self.interval!r}")
        for name, highest in (("anchor_day", 31), ("anchor_month", 12), ("anchor_weekday", 7)):
            value = getattr(self, name)
            if not 1 <= value <= highest:
                raise ValueError(f"{name} {value} is out of range 1-{highest}")
        if self.grace_period_days < 0:
            raise ValueError(f"grace_period_days {self.grace_period_days} is negative")

    @classmethod
    def from_catalog(cls, billing_cycle: Any) -> BillingCycleSpec:
        """From a catalog `billing_cycle` (anchors left out or None take their defaults)."""

        def given(name: str, default: int) -> int:
            value = getattr(billing_cycle, name, None)
            return default if value is None else value

        return cls(
            interval=billing_cycle.interval,
            anchor_day=given("anchor_day", 1),
            anchor_month=given("anchor_month", 1),
            anchor_weekday=given("anchor_weekday", 1),
            grace_period_days=given("grace_period_days", 0),
        )


@dataclass(frozen=True)
class InvoicePeriod:
    account_id: str
    assignment_id: str
    plan_id: str
    cycle_start: datetime  # the full cycle [cycle_start, cycle_end), UTC
    cycle_end: datetime
    period_start: datetime  # the piece billed: the cycle cut by the assignment, UTC
    period_end: datetime
    timezone: str
    share: Decimal  # the piece's share of the cycle's seconds; 1 for an uncut cycle
    period_days: Decimal  # the piece's seconds / 86400 (`cycle.days` in pricing rules)
    finalizes_at: datetime  # local midnight of period_end's local date + grace days, UTC
    is_cut: bool
    # The exact proration ratio, for arithmetic that must not go through `share`.
    period_seconds: int
    cycle_seconds: int


# Cached: the calendar asks for the same few hundred (day, zone) midnights once per cycle
# bound of every assignment (~80k periods of 10k accounts a night), and each is a zone
# conversion or a bisection.
@functools.lru_cache(maxsize=65_536)
def local_midnight(day: date, timezone: str) -> datetime:
    """The first instant of a local day, as a UTC datetime.

    An ambiguous midnight (clocks fall back across it) is its first occurrence; a midnight
    that does not exist (clocks spring forward across it) gives way to the first valid
    instant of the day, the moment the clocks jump.
    """
    zone = ZoneInfo(timezone)
    wall = datetime.combine(day, time(0))
    # fold=0 is the earlier reading of an ambiguous wall time.
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # Midnight falls in a gap: the day begins at the transition, which lies after the
    # offset-after reading and at or before the offset-before reading. Bisect on seconds.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # still the previous day
    high = instant
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


def _anchor_date(spec: BillingCycleSpec, month_index: int) -> date:
    # month_index counts months from year 0: year * 12 + (month - 1).
    year, month0 = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(spec.anchor_day, last_day))


@functools.lru_cache(maxsize=65_536)  # the same few cycles for every assignment of a plan
def cycle_dates(spec: BillingCycleSpec, local_day: date) -> tuple[date, date]:
    """The cycle [start, end) containing a local day, as local dates."""
    if spec.interval == "WEEKLY":
        start = local_day - timedelta(days=(local_day.isoweekday() - spec.anchor_weekday) % 7)
        return start, start + timedelta(days=7)
    step = _MONTHS_PER_CYCLE[spec.interval]
    phase = (spec.anchor_month - 1) % step
    month_index = local_day.year * 12 + local_day.month - 1
    # The latest cycle-start month at or before this day's month …
    start_index = month_index - (month_index - phase) % step
    # … unless this day comes before that month's anchor day.
    if local_day < _anchor_date(spec, start_index):
        start_index -= step
    return _anchor_date(spec, start_index), _anchor_date(spec, start_index + step)


def cycle_bounds(
    spec: BillingCycleSpec, timezone: str, local_day: date
) -> tuple[datetime, datetime]:
    """The cycle [start, end) containing a local day, both at local midnight, in UTC."""
    start, end = cycle_dates(spec, local_day)
    return local_midnight(start, timezone), local_midnight(end, timezone)


def _fraction(numerator: int, denominator: int) -> int:
    """numerator / denominator in units of 10^-18, rounded half-even, in integers only."""
    quotient, remainder = divmod(numerator * _FRACTION_SCALE, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def _fixed(units: int) -> Decimal:
    # Built from its digits, so exact whatever the decimal context.
    return Decimal(f"{units}E-{FRACTION_PLACES}")


def _seconds(start: datetime, end: datetime) -> int:
    # Boundaries are whole seconds (zone offsets are), so this is exact.
    return (end - start) // timedelta(seconds=1)


def invoice_periods(
    spec: BillingCycleSpec, *, until: datetime, **assignment
) -> list[InvoicePeriod]:
    """Every cycle, or piece of one, of a plan assignment that has begun by `until`.

    `assignment` is cycle_pieces' keywords: account_id, assignment_id, plan_id, timezone,
    effective_from and effective_until, the first and last local days covered (None:
    open-ended). `until` is the run's as-of, timezone-aware.
    """
    return periods_and_next_start(spec, until=until, **assignment)[0]


def periods_and_next_start(
    spec: BillingCycleSpec, *, until: datetime, **assignment
) -> tuple[list[InvoicePeriod], datetime | None]:
    """invoice_periods, and where the assignment's first piece not begun by `until` begins
    (None: the assignment ends before one does)."""
    if until.tzinfo is None:
        raise ValueError("until must be timezone-aware (the run's as-of instant)")
    periods = []
    for period in cycle_pieces(spec, **assignment):
        if period.period_start >= until:
            return periods, period.period_start
        periods.append(period)
    return periods, None


def cycle_pieces(
    spec: BillingCycleSpec,
    *,
    account_id: str,
    assignment_id: str,
    plan_id: str,
    timezone: str,
    effective_from: date,
    effective_until: date | None,
) -> Iterator[InvoicePeriod]:
    """The cycles, or pieces of cycles, of a plan assignment in order: to its end, or for
    ever when it is open-ended (the caller stops at its clock)."""
    if effective_until is not None and effective_until < effective_from:
        raise ValueError(
            f"assignment {assignment_id}: effective_until {effective_until} "
            f"is before effective_from {effective_from}"
        )
    # The assignment covers [first_day, after_last_day) in local days.
    first_day = effective_from
    after_last_day = None if effective_until is None else effective_until + timedelta(days=1)

    cycle_start_day, cycle_end_day = cycle_dates(spec, first_day)
    while True:
        piece_start_day = max(cycle_start_day, first_day)
        piece_end_day = (
            cycle_end_day if after_last_day is None else min(cycle_end_day, after_last_day)
        )
        if piece_start_day >= piece_end_day:
            return  # the assignment ended before this cycle
        period_start = local_midnight(piece_start_day, timezone)
        cycle_start = local_midnight(cycle_start_day, timezone)
        cycle_end = local_midnight(cycle_end_day, timezone)
        period_end = local_midnight(piece_end_day, timezone)
        cycle_seconds = _seconds(cycle_start, cycle_end)
        period_seconds = _seconds(period_start, period_end)
        # A zero-length piece only happens on a local day a zone skipped entirely
        # (Pacific/Apia, 2011-12-30): there is nothing to bill.
        if period_seconds > 0:
            # The share is the piece's end position in the cycle minus its start position,
            # each rounded: the shares of the pieces of one cycle then add up to exactly 1.
            share = _fraction(_seconds(cycle_start, period_end), cycle_seconds) - _fraction(
                _seconds(cycle_start, period_start), cycle_seconds
            )
            yield InvoicePeriod(
                account_id=account_id,
                assignment_id=assignment_id,
                plan_id=plan_id,
                cycle_start=cycle_start,
                cycle_end=cycle_end,
                period_start=period_start,
                period_end=period_end,
                timezone=timezone,
                share=_fixed(share),
                period_days=_fixed(_fraction(period_seconds, _SECONDS_PER_DAY)),
                # Grace periods count local calendar days from the piece's end.
                finalizes_at=local_midnight(
                    piece_end_day + timedelta(days=spec.grace_period_days), timezone
                ),
                is_cut=(period_start, period_end) != (cycle_start, cycle_end),
                period_seconds=period_seconds,
                cycle_seconds=cycle_seconds,
            )
        cycle_start_day, cycle_end_day = cycle_dates(spec, cycle_end_day)


_TIMESTAMP = pa.timestamp("us", tz="UTC")
_FRACTION = pa.decimal128(38, FRACTION_PLACES)

CYCLES_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("assignment_id", pa.string()),
        ("plan_id", pa.string()),
        ("cycle_start", _TIMESTAMP),
        ("cycle_end", _TIMESTAMP),
        ("period_start", _TIMESTAMP),
        ("period_end", _TIMESTAMP),
        ("timezone", pa.string()),
        ("share", _FRACTION),
        ("period_days", _FRACTION),
        ("finalizes_at", _TIMESTAMP),
        ("is_cut", pa.bool_()),
        ("period_seconds", pa.int64()),
        ("cycle_seconds", pa.int64()),
    ]
)


def cycles_table(periods: Iterable[InvoicePeriod]) -> pa.Table:
    """The invoice periods as an Arrow table for bulk insert (DuckDB reads it directly)."""
    periods = list(periods)
    columns = {
        name: pa.array(
            [getattr(period, name) for period in periods], type=CYCLES_SCHEMA.field(name).type
        )
        for name in CYCLES_SCHEMA.names
    }
    return pa.table(columns, schema=CYCLES_SCHEMA)

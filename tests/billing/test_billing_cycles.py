"""Billing-cycle calendar: anchors, month ends, DST, assignment cuts, shares and grace."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from dagster_project.lib.billing_cycles import (
    CYCLES_SCHEMA,
    BillingCycleSpec,
    InvoicePeriod,
    cycle_bounds,
    cycle_dates,
    cycles_table,
    invoice_periods,
    local_midnight,
)

D = date.fromisoformat
DAY = 86_400
HOUR = 3_600


def Z(text: str) -> datetime:
    """A UTC instant written as 2026-11-01T04:00."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MONTHLY = BillingCycleSpec("MONTHLY")


def periods(spec, timezone, effective_from, effective_until, until, assignment_id="asg_a"):
    return invoice_periods(
        spec,
        account_id="acc_1",
        assignment_id=assignment_id,
        plan_id=f"plan_{assignment_id}",
        timezone=timezone,
        effective_from=D(effective_from),
        effective_until=None if effective_until is None else D(effective_until),
        until=until,
    )


# --- anchors --------------------------------------------------------------------------

# fmt: off
ANCHOR_CASES = [
    # spec, local day, expected cycle start, expected cycle end
    # MONTHLY anchor 1 (the default)
    (MONTHLY, "2026-11-15", "2026-11-01", "2026-12-01"),
    (MONTHLY, "2026-12-31", "2026-12-01", "2027-01-01"),
    (BillingCycleSpec("MONTHLY", anchor_day=15), "2027-01-14", "2026-12-15", "2027-01-15"),
    (BillingCycleSpec("MONTHLY", anchor_day=15), "2027-01-15", "2027-01-15", "2027-02-15"),
    # MONTHLY anchor 31, non-leap 2027: each short month's last day
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2027-01-30", "2026-12-31", "2027-01-31"),
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2027-01-31", "2027-01-31", "2027-02-28"),
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2027-02-27", "2027-01-31", "2027-02-28"),
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2027-02-28", "2027-02-28", "2027-03-31"),
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2027-03-30", "2027-02-28", "2027-03-31"),
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2027-03-31", "2027-03-31", "2027-04-30"),
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2027-04-30", "2027-04-30", "2027-05-31"),
    # MONTHLY anchor 31, leap 2028
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2028-02-28", "2028-01-31", "2028-02-29"),
    (BillingCycleSpec("MONTHLY", anchor_day=31), "2028-02-29", "2028-02-29", "2028-03-31"),
    # MONTHLY anchor 30
    (BillingCycleSpec("MONTHLY", anchor_day=30), "2027-01-30", "2027-01-30", "2027-02-28"),
    (BillingCycleSpec("MONTHLY", anchor_day=30), "2027-02-28", "2027-02-28", "2027-03-30"),
    (BillingCycleSpec("MONTHLY", anchor_day=30), "2027-03-29", "2027-02-28", "2027-03-30"),
    (BillingCycleSpec("MONTHLY", anchor_day=30), "2028-02-28", "2028-01-30", "2028-02-29"),
    (BillingCycleSpec("MONTHLY", anchor_day=30), "2028-02-29", "2028-02-29", "2028-03-30"),
    # MONTHLY anchor 29: only February is short, and only outside leap years
    (BillingCycleSpec("MONTHLY", anchor_day=29), "2027-02-27", "2027-01-29", "2027-02-28"),
    (BillingCycleSpec("MONTHLY", anchor_day=29), "2027-02-28", "2027-02-28", "2027-03-29"),
    (BillingCycleSpec("MONTHLY", anchor_day=29), "2028-02-28", "2028-01-29", "2028-02-29"),
    (BillingCycleSpec("MONTHLY", anchor_day=29), "2028-02-29", "2028-02-29", "2028-03-29"),
    # QUARTERLY from February 15: Feb, May, Aug, Nov
    (BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=2), "2027-01-01", "2026-11-15", "2027-02-15"),
    (BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=2), "2027-02-14", "2026-11-15", "2027-02-15"),
    (BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=2), "2027-02-15", "2027-02-15", "2027-05-15"),
    (BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=2), "2027-07-31", "2027-05-15", "2027-08-15"),
    (BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=2), "2026-11-14", "2026-08-15", "2026-11-15"),
    (BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=2), "2026-11-15", "2026-11-15", "2027-02-15"),
    # anchor_month 11 names the same quarter starts as 2
    (BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=11), "2027-07-31", "2027-05-15", "2027-08-15"),
    # QUARTERLY default: calendar quarters
    (BillingCycleSpec("QUARTERLY"), "2026-11-15", "2026-10-01", "2027-01-01"),
    # QUARTERLY anchor 31 from January: Jan 31, Apr 30, Jul 31, Oct 31
    (BillingCycleSpec("QUARTERLY", anchor_day=31), "2027-04-29", "2027-01-31", "2027-04-30"),
    (BillingCycleSpec("QUARTERLY", anchor_day=31), "2027-04-30", "2027-04-30", "2027-07-31"),
    # QUARTERLY anchor Feb 29: Feb 28 outside leap years
    (BillingCycleSpec("QUARTERLY", anchor_day=29, anchor_month=2), "2027-05-28", "2027-02-28", "2027-05-29"),
    (BillingCycleSpec("QUARTERLY", anchor_day=29, anchor_month=2), "2028-02-29", "2028-02-29", "2028-05-29"),
    # ANNUALLY
    (BillingCycleSpec("ANNUALLY"), "2026-12-31", "2026-01-01", "2027-01-01"),
    (BillingCycleSpec("ANNUALLY", anchor_month=7), "2026-06-30", "2025-07-01", "2026-07-01"),
    (BillingCycleSpec("ANNUALLY", anchor_month=7), "2026-07-01", "2026-07-01", "2027-07-01"),
    # ANNUALLY on Feb 29: Feb 28 in non-leap years
    (BillingCycleSpec("ANNUALLY", anchor_day=29, anchor_month=2), "2027-06-01", "2027-02-28", "2028-02-29"),
    (BillingCycleSpec("ANNUALLY", anchor_day=29, anchor_month=2), "2028-02-28", "2027-02-28", "2028-02-29"),
    (BillingCycleSpec("ANNUALLY", anchor_day=29, anchor_month=2), "2028-02-29", "2028-02-29", "2029-02-28"),
    # WEEKLY on Wednesdays (2026-11-04 is a Wednesday)
    (BillingCycleSpec("WEEKLY", anchor_weekday=3), "2026-11-03", "2026-10-28", "2026-11-04"),
    (BillingCycleSpec("WEEKLY", anchor_weekday=3), "2026-11-04", "2026-11-04", "2026-11-11"),
    (BillingCycleSpec("WEEKLY", anchor_weekday=3), "2026-11-10", "2026-11-04", "2026-11-11"),
    (BillingCycleSpec("WEEKLY", anchor_weekday=3), "2027-01-01", "2026-12-30", "2027-01-06"),
    # WEEKLY default Monday, and Sunday
    (BillingCycleSpec("WEEKLY"), "2026-11-01", "2026-10-26", "2026-11-02"),
    (BillingCycleSpec("WEEKLY", anchor_weekday=7), "2026-11-01", "2026-11-01", "2026-11-08"),
]
# fmt: on


@pytest.mark.parametrize(("spec", "day", "start", "end"), ANCHOR_CASES)
def test_cycle_dates(spec, day, start, end):
    assert cycle_dates(spec, D(day)) == (D(start), D(end))


@pytest.mark.parametrize(("spec", "day", "start", "end"), ANCHOR_CASES)
def test_cycle_bounds_in_utc_are_midnights(spec, day, start, end):
    assert cycle_bounds(spec, "UTC", D(day)) == (Z(start), Z(end))


# --- daylight saving -------------------------------------------------------------------

# fmt: off
DST_CASES = [
    # timezone, spec, local day, UTC start, UTC end, seconds beyond the days' 86400 each
    # New York: DST starts 2026-03-08, ends 2026-11-01
    ("America/New_York", MONTHLY, "2026-03-15", "2026-03-01T05:00", "2026-04-01T04:00", -HOUR),
    ("America/New_York", MONTHLY, "2026-11-15", "2026-11-01T04:00", "2026-12-01T05:00", HOUR),
    ("America/New_York", MONTHLY, "2026-12-15", "2026-12-01T05:00", "2027-01-01T05:00", 0),
    # Berlin: DST starts 2026-03-29, ends 2026-10-25
    ("Europe/Berlin", MONTHLY, "2026-03-29", "2026-02-28T23:00", "2026-03-31T22:00", -HOUR),
    ("Europe/Berlin", MONTHLY, "2026-10-25", "2026-09-30T22:00", "2026-10-31T23:00", HOUR),
    # Sydney (southern hemisphere): DST ends 2026-04-05, starts 2026-10-04
    ("Australia/Sydney", MONTHLY, "2026-04-05", "2026-03-31T13:00", "2026-04-30T14:00", HOUR),
    ("Australia/Sydney", MONTHLY, "2026-10-04", "2026-09-30T14:00", "2026-10-31T13:00", -HOUR),
    # Weekly cycles around the changes, on the Sunday of each change
    ("America/New_York", BillingCycleSpec("WEEKLY", anchor_weekday=7), "2026-03-08", "2026-03-08T05:00", "2026-03-15T04:00", -HOUR),
    ("Europe/Berlin", BillingCycleSpec("WEEKLY", anchor_weekday=7), "2026-10-25", "2026-10-24T22:00", "2026-10-31T23:00", HOUR),
    # Tokyo: +9 all year
    ("Asia/Tokyo", MONTHLY, "2026-11-15", "2026-10-31T15:00", "2026-11-30T15:00", 0),
    ("Asia/Tokyo", BillingCycleSpec("ANNUALLY"), "2028-02-29", "2027-12-31T15:00", "2028-12-31T15:00", 0),
    # Havana changes clocks at midnight. 2026-03-08 00:00 does not exist (00:00 -05 jumps
    # to 01:00 -04): the day starts at the jump, 05:00Z. The week before it keeps 7 days.
    ("America/Havana", BillingCycleSpec("WEEKLY", anchor_weekday=7), "2026-03-07", "2026-03-01T05:00", "2026-03-08T05:00", 0),
    ("America/Havana", BillingCycleSpec("WEEKLY", anchor_weekday=7), "2026-03-08", "2026-03-08T05:00", "2026-03-15T04:00", -HOUR),
    # 2026-11-01 00:00 happens twice (01:00 -04 falls back to 00:00 -05): the first one.
    ("America/Havana", BillingCycleSpec("WEEKLY", anchor_weekday=7), "2026-10-31", "2026-10-25T04:00", "2026-11-01T04:00", 0),
    ("America/Havana", BillingCycleSpec("WEEKLY", anchor_weekday=7), "2026-11-01", "2026-11-01T04:00", "2026-11-08T05:00", HOUR),
    # Santiago: 2026-09-06 00:00 -04 jumps to 01:00 -03; 2026-04-05 00:00 is unambiguous.
    ("America/Santiago", MONTHLY, "2026-09-06", "2026-09-01T04:00", "2026-10-01T03:00", -HOUR),
    ("America/Santiago", BillingCycleSpec("MONTHLY", anchor_day=6), "2026-09-06", "2026-09-06T04:00", "2026-10-06T03:00", -HOUR),
    ("America/Santiago", BillingCycleSpec("MONTHLY", anchor_day=5), "2026-04-05", "2026-04-05T04:00", "2026-05-05T04:00", 0),
    ("America/Santiago", BillingCycleSpec("MONTHLY", anchor_day=4), "2026-04-05", "2026-04-04T03:00", "2026-05-04T04:00", HOUR),
]
# fmt: on


@pytest.mark.parametrize(("timezone", "spec", "day", "start", "end", "extra"), DST_CASES)
def test_cycle_bounds_across_dst(timezone, spec, day, start, end, extra):
    cycle_start, cycle_end = cycle_bounds(spec, timezone, D(day))
    assert (cycle_start, cycle_end) == (Z(start), Z(end))
    assert cycle_start.tzinfo is UTC and cycle_end.tzinfo is UTC
    local_start, local_end = cycle_dates(spec, D(day))
    assert (cycle_end - cycle_start).total_seconds() == (local_end - local_start).days * DAY + extra


@pytest.mark.parametrize(
    ("timezone", "day", "instant"),
    [
        ("UTC", "2026-11-01", "2026-11-01T00:00"),
        ("America/New_York", "2026-11-01", "2026-11-01T04:00"),
        ("America/New_York", "2026-11-02", "2026-11-02T05:00"),
        ("Asia/Kolkata", "2026-11-01", "2026-10-31T18:30"),
        ("Asia/Kathmandu", "2026-11-01", "2026-10-31T18:15"),
        ("Pacific/Chatham", "2026-11-01", "2026-10-31T10:15"),
        ("America/Havana", "2026-03-08", "2026-03-08T05:00"),  # gap: the jump to 01:00
        ("America/Havana", "2026-11-01", "2026-11-01T04:00"),  # twice: the first
        ("America/Santiago", "2026-09-06", "2026-09-06T04:00"),  # gap: the jump to 01:00
        ("America/Santiago", "2026-04-05", "2026-04-05T04:00"),
        # Apia skipped 2011-12-30 entirely: that day "starts" when Dec 31 does.
        ("Pacific/Apia", "2011-12-30", "2011-12-30T10:00"),
        ("Pacific/Apia", "2011-12-31", "2011-12-30T10:00"),
    ],
)
def test_local_midnight(timezone, day, instant):
    midnight = local_midnight(D(day), timezone)
    assert midnight == Z(instant)
    # It is the first instant of its local day: a second earlier is the day before.
    before = (midnight - timedelta(seconds=1)).astimezone(ZoneInfo(timezone)).date()
    assert before < D(day)


# --- assignment cuts -------------------------------------------------------------------


def test_plan_change_mid_cycle_in_utc():
    until = Z("2026-12-10T00:00")
    a = periods(MONTHLY, "UTC", "2026-10-01", "2026-11-14", until, "asg_a")
    b = periods(MONTHLY, "UTC", "2026-11-15", None, until, "asg_b")
    assert [(p.period_start, p.period_end, p.share, p.period_days, p.is_cut) for p in a] == [
        (Z("2026-10-01T00:00"), Z("2026-11-01T00:00"), Decimal(1), Decimal(31), False),
        (
            Z("2026-11-01T00:00"),
            Z("2026-11-15T00:00"),
            Decimal("0.466666666666666667"),
            Decimal(14),
            True,
        ),
    ]
    assert [(p.period_start, p.period_end, p.share, p.period_days, p.is_cut) for p in b] == [
        (
            Z("2026-11-15T00:00"),
            Z("2026-12-01T00:00"),
            Decimal("0.533333333333333333"),
            Decimal(16),
            True,
        ),
        # The current cycle has begun by the as-of: it is billed (as a draft) too.
        (Z("2026-12-01T00:00"), Z("2027-01-01T00:00"), Decimal(1), Decimal(31), False),
    ]
    a_nov, b_nov = a[1], b[0]
    assert (a_nov.cycle_start, a_nov.cycle_end) == (b_nov.cycle_start, b_nov.cycle_end)
    assert (a_nov.period_seconds, b_nov.period_seconds, a_nov.cycle_seconds) == (
        14 * DAY,
        16 * DAY,
        30 * DAY,
    )
    assert a_nov.share + b_nov.share == 1
    assert (a_nov.plan_id, b_nov.plan_id) == ("plan_asg_a", "plan_asg_b")


def test_plan_change_mid_cycle_across_dst_is_shared_by_seconds():
    # November 2026 in New York has 30 days and 1 hour: the extra hour (Nov 1) is A's.
    until = Z("2026-11-20T00:00")
    [a_nov] = periods(MONTHLY, "America/New_York", "2026-11-01", "2026-11-14", until, "asg_a")
    [b_nov] = periods(MONTHLY, "America/New_York", "2026-11-15", None, until, "asg_b")
    assert (a_nov.cycle_start, a_nov.cycle_end) == (Z("2026-11-01T04:00"), Z("2026-12-01T05:00"))
    assert (a_nov.period_start, a_nov.period_end) == (Z("2026-11-01T04:00"), Z("2026-11-15T05:00"))
    assert (b_nov.period_start, b_nov.period_end) == (Z("2026-11-15T05:00"), Z("2026-12-01T05:00"))
    assert a_nov.cycle_seconds == 30 * DAY + HOUR == 2_595_600
    assert a_nov.period_seconds == 14 * DAY + HOUR == 1_213_200
    assert b_nov.period_seconds == 16 * DAY == 1_382_400
    # 1213200 / 2595600 = 337/721 and 1382400 / 2595600 = 384/721, not 14/30 and 16/30.
    assert a_nov.share == Decimal("0.467406380027739251")
    assert b_nov.share == Decimal("0.532593619972260749")
    assert a_nov.share + b_nov.share == 1
    assert a_nov.period_days == Decimal("14.041666666666666667")  # 14 days and 1 hour
    assert b_nov.period_days == Decimal(16)


def test_plan_changes_twice_in_one_cycle():
    until = Z("2026-11-25T00:00")
    pieces = [
        *periods(MONTHLY, "UTC", "2026-11-01", "2026-11-09", until, "asg_a"),
        *periods(MONTHLY, "UTC", "2026-11-10", "2026-11-19", until, "asg_b"),
        *periods(MONTHLY, "UTC", "2026-11-20", None, until, "asg_c"),
    ]
    assert [
        (p.assignment_id, p.period_start, p.period_end, p.share, p.period_days) for p in pieces
    ] == [
        ("asg_a", Z("2026-11-01T00:00"), Z("2026-11-10T00:00"), Decimal("0.3"), Decimal(9)),
        (
            "asg_b",
            Z("2026-11-10T00:00"),
            Z("2026-11-20T00:00"),
            Decimal("0.333333333333333333"),
            Decimal(10),
        ),
        (
            "asg_c",
            Z("2026-11-20T00:00"),
            Z("2026-12-01T00:00"),
            Decimal("0.366666666666666667"),
            Decimal(11),
        ),
    ]
    assert all(p.is_cut for p in pieces)
    assert sum(p.share for p in pieces) == 1


def test_thirds_of_a_cycle_still_sum_to_one():
    # Rounding 1/3 three times would lose 10^-18; each piece's share is its end position
    # minus its start position in the cycle, so the middle third carries the last digit.
    until = Z("2026-12-01T00:00")
    pieces = [
        *periods(MONTHLY, "UTC", "2026-11-01", "2026-11-10", until, "asg_a"),
        *periods(MONTHLY, "UTC", "2026-11-11", "2026-11-20", until, "asg_b"),
        *periods(MONTHLY, "UTC", "2026-11-21", "2026-11-30", until, "asg_c"),
    ]
    assert [p.share for p in pieces] == [
        Decimal("0.333333333333333333"),
        Decimal("0.333333333333333334"),
        Decimal("0.333333333333333333"),
    ]
    assert sum(p.share for p in pieces) == 1
    assert [p.period_seconds for p in pieces] == [10 * DAY] * 3


def test_assignment_starting_and_ending_inside_one_cycle():
    [piece] = periods(MONTHLY, "UTC", "2026-11-10", "2026-11-19", Z("2027-06-01T00:00"))
    assert (piece.cycle_start, piece.cycle_end) == (Z("2026-11-01T00:00"), Z("2026-12-01T00:00"))
    assert (piece.period_start, piece.period_end) == (Z("2026-11-10T00:00"), Z("2026-11-20T00:00"))
    assert (piece.share, piece.period_days, piece.is_cut) == (
        Decimal("0.333333333333333333"),
        Decimal(10),
        True,
    )


def test_one_day_assignment():
    [piece] = periods(MONTHLY, "Europe/Berlin", "2026-03-29", "2026-03-29", Z("2026-04-01T00:00"))
    # The day clocks spring forward has 23 hours; March has 31 days less an hour.
    assert (piece.period_start, piece.period_end) == (Z("2026-03-28T23:00"), Z("2026-03-29T22:00"))
    assert piece.period_seconds == 23 * HOUR
    assert piece.cycle_seconds == 31 * DAY - HOUR
    assert piece.period_days == Decimal("0.958333333333333333")  # 23/24
    # 82800 / 2674800 = 23/743 = 0.030955585464333781965…
    assert piece.share == Decimal("0.030955585464333782")


@pytest.mark.parametrize(
    ("until", "starts"),
    [
        # A cycle whose start is the as-of itself has not begun.
        ("2026-11-04T00:00", []),
        ("2026-11-04T00:00:01", ["2026-11-04"]),
        ("2026-11-25T00:00", ["2026-11-04", "2026-11-11", "2026-11-18"]),
        ("2026-11-25T00:00:01", ["2026-11-04", "2026-11-11", "2026-11-18", "2026-11-25"]),
    ],
)
def test_open_ended_assignment_stops_at_the_as_of(until, starts):
    spec = BillingCycleSpec("WEEKLY", anchor_weekday=3)
    found = periods(spec, "UTC", "2026-11-04", None, Z(until))
    assert [p.period_start for p in found] == [Z(s + "T00:00") for s in starts]
    assert all(p.share == 1 and p.period_days == 7 and not p.is_cut for p in found)


def test_as_of_is_compared_with_local_midnight():
    # Tokyo's December starts at 2026-11-30T15:00Z.
    def cycle_starts(until):
        found = periods(MONTHLY, "Asia/Tokyo", "2026-11-01", None, until)
        return [p.cycle_start for p in found]

    assert cycle_starts(Z("2026-11-30T15:00")) == [Z("2026-10-31T15:00")]
    assert cycle_starts(Z("2026-11-30T15:00:01")) == [Z("2026-10-31T15:00"), Z("2026-11-30T15:00")]
    # An as-of in another offset is the same instant.
    tokyo_midnight = datetime(2026, 12, 1, 0, 0, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert cycle_starts(tokyo_midnight) == cycle_starts(Z("2026-11-30T15:00:01"))


def test_open_ended_assignment_starting_mid_cycle():
    assert periods(MONTHLY, "UTC", "2026-11-18", None, Z("2026-11-18T00:00")) == []
    [piece] = periods(MONTHLY, "UTC", "2026-11-18", None, Z("2026-11-18T00:00:01"))
    assert (piece.period_start, piece.period_end) == (Z("2026-11-18T00:00"), Z("2026-12-01T00:00"))
    assert (piece.share, piece.period_days, piece.is_cut) == (
        Decimal("0.433333333333333333"),
        Decimal(13),
        True,
    )


def test_assignment_ending_on_a_cycle_boundary_is_not_cut():
    found = periods(MONTHLY, "America/New_York", "2026-10-01", "2026-11-30", Z("2027-03-01T00:00"))
    assert [(p.period_start, p.period_end, p.is_cut, p.share) for p in found] == [
        (Z("2026-10-01T04:00"), Z("2026-11-01T04:00"), False, Decimal(1)),
        (Z("2026-11-01T04:00"), Z("2026-12-01T05:00"), False, Decimal(1)),
    ]
    assert [p.period_days for p in found] == [Decimal(31), Decimal("30.041666666666666667")]


def test_quarterly_and_annual_cuts():
    quarterly = BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=2)
    # Feb 15 - May 15 2027 is 89 days; May 1 - May 14 is 14 of them.
    [piece] = periods(quarterly, "UTC", "2027-05-01", "2027-05-14", Z("2028-01-01T00:00"))
    assert (piece.cycle_start, piece.cycle_end) == (Z("2027-02-15T00:00"), Z("2027-05-15T00:00"))
    assert piece.cycle_seconds == 89 * DAY
    assert piece.period_days == 14
    # The piece runs from 75/89 of the cycle to its end: 1 − 0.842696629213483146 (75/89
    # = 0.842696629213483146067…), which is also 14/89 = 0.157303370786516853932… rounded.
    assert piece.share == Decimal("0.157303370786516854")
    annual = BillingCycleSpec("ANNUALLY", anchor_day=29, anchor_month=2)
    # 2027-02-28 to 2028-02-29 has 366 days; an assignment covering its last 60.
    [piece] = periods(annual, "UTC", "2027-12-31", None, Z("2028-01-01T00:00"))
    assert (piece.cycle_start, piece.cycle_end) == (Z("2027-02-28T00:00"), Z("2028-02-29T00:00"))
    assert piece.cycle_seconds == 366 * DAY
    assert piece.period_days == 60
    # 1 − round(306/366 = 0.836065573770491803278…); 60/366 = 10/61 = 0.163934426229508196721…
    assert piece.share == Decimal("0.163934426229508197")


# --- grace -------------------------------------------------------------------------------


# fmt: off
GRACE_CASES = [
    # timezone, spec, effective_from, effective_until, period end, finalizes_at (UTC)
    # No grace: final the moment the cycle ends.
    ("UTC", MONTHLY, "2026-10-01", "2026-10-31", "2026-11-01T00:00", "2026-11-01T00:00"),
    # October ends at EDT midnight; three local days later is EST midnight.
    ("America/New_York", BillingCycleSpec("MONTHLY", grace_period_days=3), "2026-10-01", "2026-10-31", "2026-11-01T04:00", "2026-11-04T05:00"),
    # A cut piece's grace runs from the piece's end.
    ("America/New_York", BillingCycleSpec("MONTHLY", grace_period_days=3), "2026-11-01", "2026-11-14", "2026-11-15T05:00", "2026-11-18T05:00"),
    # Berlin: a piece ending 2026-03-26 (CET), five local days later is 03-31 (CEST).
    ("Europe/Berlin", BillingCycleSpec("MONTHLY", grace_period_days=5), "2026-03-01", "2026-03-25", "2026-03-25T23:00", "2026-03-30T22:00"),
    ("Europe/Berlin", BillingCycleSpec("MONTHLY", grace_period_days=5), "2026-02-01", "2026-02-28", "2026-02-28T23:00", "2026-03-05T23:00"),
    # Sydney: September ends in AEST; grace 2 stays in AEST, grace 4 crosses into AEDT.
    ("Australia/Sydney", BillingCycleSpec("MONTHLY", grace_period_days=2), "2026-09-01", "2026-09-30", "2026-09-30T14:00", "2026-10-02T14:00"),
    ("Australia/Sydney", BillingCycleSpec("MONTHLY", grace_period_days=4), "2026-09-01", "2026-09-30", "2026-09-30T14:00", "2026-10-04T13:00"),
    # Weekly in Tokyo, a week of grace.
    ("Asia/Tokyo", BillingCycleSpec("WEEKLY", grace_period_days=7), "2026-11-02", "2026-11-08", "2026-11-08T15:00", "2026-11-15T15:00"),
]
# fmt: on


@pytest.mark.parametrize(
    ("timezone", "spec", "effective_from", "effective_until", "period_end", "finalizes_at"),
    GRACE_CASES,
)
def test_finalizes_at_counts_local_days(
    timezone, spec, effective_from, effective_until, period_end, finalizes_at
):
    [piece] = periods(spec, timezone, effective_from, effective_until, Z("2027-01-01T00:00"))
    assert piece.period_end == Z(period_end)
    assert piece.finalizes_at == Z(finalizes_at)
    local = piece.finalizes_at.astimezone(ZoneInfo(timezone))
    assert (local.hour, local.minute) == (0, 0)


# --- errors and plumbing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"interval": "DAILY"}, "unknown billing interval"),
        ({"interval": "MONTHLY", "anchor_day": 0}, "anchor_day 0 is out of range 1-31"),
        ({"interval": "MONTHLY", "anchor_day": 32}, "anchor_day 32"),
        ({"interval": "ANNUALLY", "anchor_month": 13}, "anchor_month 13 is out of range 1-12"),
        ({"interval": "WEEKLY", "anchor_weekday": 8}, "anchor_weekday 8 is out of range 1-7"),
        ({"interval": "WEEKLY", "grace_period_days": -1}, "grace_period_days -1 is negative"),
    ],
)
def test_spec_rejects_out_of_range_values(arguments, message):
    with pytest.raises(ValueError, match=message):
        BillingCycleSpec(**arguments)


def test_assignment_errors():
    with pytest.raises(ValueError, match="timezone-aware"):
        periods(MONTHLY, "UTC", "2026-11-01", None, datetime(2026, 12, 1))
    with pytest.raises(
        ValueError, match="effective_until 2026-10-31 is before effective_from 2026-11-01"
    ):
        periods(MONTHLY, "UTC", "2026-11-01", "2026-10-31", Z("2026-12-01T00:00"))


def test_spec_from_catalog_fills_defaults():
    from dagster_project.lib.catalog.models import BillingCycle, BillingInterval

    cycle = BillingCycle(interval=BillingInterval.QUARTERLY, anchor_day=15, grace_period_days=3)
    spec = BillingCycleSpec.from_catalog(cycle)
    assert spec == BillingCycleSpec("QUARTERLY", anchor_day=15, anchor_month=1, grace_period_days=3)
    assert type(spec.interval) is str
    assert BillingCycleSpec.from_catalog(BillingCycle(interval="WEEKLY")) == BillingCycleSpec(
        "WEEKLY"
    )


def test_module_is_pure_python():
    code = (
        "import sys, dagster_project.lib.billing_cycles; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dagster', 'dbt', 'dagster_dbt')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cycles_table_loads_into_duckdb_exactly():
    until = Z("2026-12-10T00:00")
    rows = [
        *periods(MONTHLY, "America/New_York", "2026-10-01", "2026-11-14", until, "asg_a"),
        *periods(MONTHLY, "America/New_York", "2026-11-15", None, until, "asg_b"),
    ]
    arrow_cycles = cycles_table(rows)
    assert arrow_cycles.schema == CYCLES_SCHEMA
    assert CYCLES_SCHEMA.names == [f.name for f in fields(InvoicePeriod)]
    assert arrow_cycles.num_rows == 4
    assert cycles_table([]).num_rows == 0

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create table billing_cycles as select * from arrow_cycles")
    types = dict(
        con.execute("select column_name, column_type from (describe billing_cycles)").fetchall()
    )
    assert types["share"] == types["period_days"] == "DECIMAL(38,18)"
    assert types["cycle_start"] == types["finalizes_at"] == "TIMESTAMP WITH TIME ZONE"
    fetched = con.execute(
        "select assignment_id, period_start, period_end, share, period_days, is_cut "
        "from billing_cycles order by period_start"
    ).fetchall()
    assert [(a, s, e, sh, d, c) for a, s, e, sh, d, c in fetched] == [
        (p.assignment_id, p.period_start, p.period_end, p.share, p.period_days, p.is_cut)
        for p in rows
    ]
    # The pieces of the cut November cycle add up to exactly one cycle, in SQL too.
    assert con.execute(
        "select sum(share), sum(period_seconds) = any_value(cycle_seconds) from billing_cycles "
        "where cycle_start = '2026-11-01 04:00:00+00'"
    ).fetchone() == (Decimal(1), True)


# --- properties ---------------------------------------------------------------------------

TIMEZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Havana",  # changes at midnight
    "America/Santiago",  # changes at midnight
]

specs = st.one_of(
    st.builds(
        BillingCycleSpec,
        interval=st.sampled_from(["MONTHLY", "QUARTERLY", "ANNUALLY"]),
        anchor_day=st.integers(1, 31),
        anchor_month=st.integers(1, 12),
        grace_period_days=st.integers(0, 40),
    ),
    st.builds(
        BillingCycleSpec,
        interval=st.just("WEEKLY"),
        anchor_weekday=st.integers(1, 7),
        grace_period_days=st.integers(0, 10),
    ),
)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=300, deadline=None)
@given(spec=specs, timezone=st.sampled_from(TIMEZONES), day=days)
def test_property_cycles_tile_the_calendar(spec, timezone, day):
    start, end = cycle_dates(spec, day)
    assert start <= day < end
    # The next cycle starts where this one ends, and the previous one ends where it starts.
    assert cycle_dates(spec, end)[0] == end
    assert cycle_dates(spec, start - timedelta(days=1))[1] == start
    cycle_start, cycle_end = cycle_bounds(spec, timezone, day)
    zone = ZoneInfo(timezone)
    # Each boundary is the first instant of its local day.
    for boundary, local_day in ((cycle_start, start), (cycle_end, end)):
        assert boundary.astimezone(zone).date() == local_day
        assert (boundary - timedelta(seconds=1)).astimezone(zone).date() < local_day


@settings(max_examples=300, deadline=None)
@given(
    spec=specs,
    timezone=st.sampled_from(TIMEZONES),
    effective_from=days,
    lengths=st.lists(st.integers(1, 12) | st.integers(1, 200), min_size=1, max_size=5),
    open_ended=st.booleans(),
    as_of_days=st.integers(-30, 900),
    as_of_seconds=st.sampled_from([0, 1, DAY // 2, DAY - 1]),
)
def test_property_pieces_are_contiguous_and_shares_add_up(
    spec, timezone, effective_from, lengths, open_ended, as_of_days, as_of_seconds
):
    # A chain of consecutive assignments (plan changes), the last one maybe open-ended.
    ranges = []
    first = effective_from
    for number, length in enumerate(lengths):
        last = (
            None
            if open_ended and number == len(lengths) - 1
            else first + timedelta(days=length - 1)
        )
        ranges.append((f"asg_{number}", first, last))
        if last is not None:
            first = last + timedelta(days=1)
    start_of_chain = local_midnight(effective_from, timezone)
    # The as-of lands on local midnights (a boundary) as well as between them.
    until = start_of_chain + timedelta(days=as_of_days, seconds=as_of_seconds)

    all_pieces = []
    for assignment_id, first_day, last_day in ranges:
        found = invoice_periods(
            spec,
            account_id="acc",
            assignment_id=assignment_id,
            plan_id="plan",
            timezone=timezone,
            effective_from=first_day,
            effective_until=last_day,
            until=until,
        )
        assignment_start = local_midnight(first_day, timezone)
        assignment_end = (
            None if last_day is None else local_midnight(last_day + timedelta(days=1), timezone)
        )
        if until <= assignment_start:
            assert found == []
            continue
        # One piece per cycle, in order, contiguous, from the assignment's first midnight …
        assert found[0].period_start == assignment_start
        for before, after in zip(found, found[1:], strict=False):
            assert before.period_end == after.period_start
            assert before.cycle_end == after.cycle_start
        # … to its end, or to the end of the cycle running at the as-of.
        last = found[-1]
        assert last.period_end == assignment_end or (
            last.period_start < until <= last.period_end and last.period_end == last.cycle_end
        )
        if assignment_end is not None:
            assert last.period_end <= assignment_end
        for piece in found:
            assert piece.cycle_start <= piece.period_start < piece.period_end <= piece.cycle_end
            assert piece.period_start < until
            assert piece.is_cut == (
                (piece.period_start, piece.period_end) != (piece.cycle_start, piece.cycle_end)
            )
            assert piece.period_seconds == (piece.period_end - piece.period_start).total_seconds()
            assert piece.cycle_seconds == (piece.cycle_end - piece.cycle_start).total_seconds()
            exact = Fraction(piece.period_seconds, piece.cycle_seconds)
            assert abs(Fraction(piece.share) - exact) <= Fraction(1, 10**18)
            assert (piece.share == 1) == (not piece.is_cut)
            assert abs(
                Fraction(piece.period_days) - Fraction(piece.period_seconds, DAY)
            ) <= Fraction(1, 2 * 10**18)
            assert (
                piece.share.as_tuple().exponent >= -18
                and piece.period_days.as_tuple().exponent >= -18
            )
            local_end = piece.period_end.astimezone(ZoneInfo(timezone)).date()
            assert piece.finalizes_at == local_midnight(
                local_end + timedelta(days=spec.grace_period_days), timezone
            )
        all_pieces.extend(found)

    # Across the chain: the pieces of one cycle follow each other, their shares sum to at
    # most 1, and to exactly 1 when the chain covers the cycle and every piece has begun.
    bounds = [
        (
            local_midnight(first_day, timezone),
            None if last_day is None else local_midnight(last_day + timedelta(days=1), timezone),
        )
        for _, first_day, last_day in ranges
    ]
    chain_end = bounds[-1][1]
    by_cycle: dict[datetime, list[InvoicePeriod]] = {}
    for piece in all_pieces:
        by_cycle.setdefault(piece.cycle_start, []).append(piece)
    for cycle_start, pieces in by_cycle.items():
        cycle_end = pieces[0].cycle_end
        pieces.sort(key=lambda piece: piece.period_start)
        for before, after in zip(pieces, pieces[1:], strict=False):
            assert before.period_end == after.period_start
        total = sum(p.share for p in pieces)
        assert total <= 1
        covered = start_of_chain <= cycle_start and (chain_end is None or cycle_end <= chain_end)
        all_begun = all(
            max(cycle_start, start) < until
            for start, end in bounds
            if start < cycle_end and (end is None or end > cycle_start)
        )
        event(
            f"{len(pieces)} piece(s) in a cycle, {'tiled' if covered and all_begun else 'partial'}"
        )
        if covered and all_begun:
            assert (pieces[0].period_start, pieces[-1].period_end) == (cycle_start, cycle_end)
            assert sum(p.period_seconds for p in pieces) == pieces[0].cycle_seconds
            assert total == 1
        else:
            assert total < 1

"""billing.invoice_periods laid out incrementally (only assignments whose inputs changed or
whose next piece began) equals laying out every assignment, whatever the clocks and edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.billing_cycles import local_midnight
from dagster_project.lib.catalog import DEMO_CATALOG, load_catalog
from dagster_project.lib.catalog.tables import write_catalog_tables
from dagster_project.lib.invoice_periods import write_invoice_periods

START = datetime(2026, 9, 1, tzinfo=UTC)

# Catalog edits a finance team makes between nights; each touches one or a few assignments.
EDITS = {
    "end_assignment": "update catalog.plan_assignments set effective_until = date '2026-12-14' "
    "where assignment_id = 'asg_acme_prod'",
    "move_account": "update catalog.accounts set timezone = 'Asia/Tokyo' "
    "where account_id = 'acc_acme_staging'",
    "re_anchor_plan": "update catalog.price_plans set anchor_day = 15 where plan_id = 'starter'",
    "drop_assignment": "delete from catalog.plan_assignments where assignment_id = "
    "(select min(assignment_id) from catalog.plan_assignments)",
    # A fresh id each time (the catalog rejects duplicate assignment ids, so the layout keys
    # on them): one more than the highest asg_new_ id present.
    "add_assignment": "insert into catalog.plan_assignments (assignment_id, account_id, plan_id, "
    "effective_from, effective_until) select 'asg_new_' || (coalesce(max(cast(substr("
    "assignment_id, 9) as integer)), 0) + 1), 'acc_acme_prod', 'starter', date '2027-01-10', "
    "null from catalog.plan_assignments where assignment_id like 'asg\\_new\\_%' escape '\\'",
}


@pytest.fixture(scope="module")
def demo_catalog_db(tmp_path_factory) -> str:
    """The demo catalog's tables, loaded once; each warehouse below is an in-memory copy."""
    path = str(tmp_path_factory.mktemp("demo") / "demo_catalog.duckdb")
    with duckdb.connect(path) as con:
        write_catalog_tables(con, load_catalog(DEMO_CATALOG))
    return path


def _warehouse(catalog_db: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{catalog_db}' as demo (read_only)")
    con.execute("copy from database demo to memory")
    con.execute("detach demo")
    return con


def _periods(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select * from billing.invoice_periods order by all").fetchall()


def _full(con: duckdb.DuckDBPyConnection, as_of: datetime):
    con.execute("drop table if exists billing.invoice_period_layouts")
    return write_invoice_periods(con, as_of)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    nights=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=400),  # days after START
            st.sampled_from([None, *EDITS]),
        ),
        min_size=2,
        max_size=7,
    )
)
def test_incremental_layout_equals_laying_out_everything(demo_catalog_db, nights):
    incremental, full = _warehouse(demo_catalog_db), _warehouse(demo_catalog_db)
    for days, edit in nights:
        if edit:
            incremental.execute(EDITS[edit])
            full.execute(EDITS[edit])
        as_of = START + timedelta(days=days, hours=days % 24)
        write_invoice_periods(incremental, as_of)
        _full(full, as_of)
        assert _periods(incremental) == _periods(full), (days, edit)


def test_a_night_lays_out_only_what_changed_or_began(demo_catalog_db):
    con = _warehouse(demo_catalog_db)
    (assignments,) = con.execute("select count(*) from catalog.plan_assignments").fetchone()
    first = write_invoice_periods(con, datetime(2026, 12, 2, tzinfo=UTC))
    assert first.laid_out == assignments
    # The same clock again: nothing new has begun, nothing changed.
    assert write_invoice_periods(con, datetime(2026, 12, 2, 12, tzinfo=UTC)).laid_out == 0
    # One assignment edited: it alone.
    con.execute(EDITS["end_assignment"])
    again = write_invoice_periods(con, datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert again.laid_out == 1
    (end,) = con.execute(
        "select max(period_end) from billing.invoice_periods where assignment_id = 'asg_acme_prod'"
    ).fetchone()
    # Its last piece ends at the New York midnight after its last day.
    assert end == local_midnight(date(2026, 12, 15), "America/New_York")
    # A month on, every monthly assignment has a new piece; a clock moved back before every
    # layout's horizon lays out all (a layout holds from its horizon to its next piece).
    (monthly,) = con.execute(
        "select count(*) from catalog.plan_assignments a join catalog.price_plans p "
        "using (plan_id) where p.billing_interval = 'MONTHLY' and a.effective_until is null"
    ).fetchone()
    assert write_invoice_periods(con, datetime(2027, 1, 2, tzinfo=UTC)).laid_out >= monthly
    assert write_invoice_periods(con, datetime(2026, 11, 20, tzinfo=UTC)).laid_out == assignments


def test_a_new_release_lays_out_every_assignment(demo_catalog_db, monkeypatch):
    import dagster_project.lib.invoice_periods as module

    con = _warehouse(demo_catalog_db)
    write_invoice_periods(con, datetime(2026, 12, 2, tzinfo=UTC))
    monkeypatch.setattr(module, "code_version", lambda: "another release")
    (assignments,) = con.execute("select count(*) from catalog.plan_assignments").fetchone()
    assert write_invoice_periods(con, datetime(2026, 11, 20, tzinfo=UTC)).laid_out == assignments


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_each_edit_changes_the_periods(demo_catalog_db, edit):
    """An edit between two nights at one clock changes that clock's periods: what it edits is
    among an assignment's inputs, and the property test's edits are not no-ops."""
    con = _warehouse(demo_catalog_db)
    as_of = datetime(2027, 2, 1, tzinfo=UTC)
    write_invoice_periods(con, as_of)
    before = _periods(con)
    con.execute(EDITS[edit])
    write_invoice_periods(con, as_of)
    assert _periods(con) != before


def test_a_repeated_assignment_id_is_refused_and_nothing_is_replaced(demo_catalog_db):
    con = _warehouse(demo_catalog_db)
    write_invoice_periods(con, datetime(2026, 12, 2, tzinfo=UTC))
    before = _periods(con)
    con.execute(
        "insert into catalog.plan_assignments select * from catalog.plan_assignments "
        "where assignment_id = 'asg_stark'"
    )
    with pytest.raises(ValueError, match="assignment 'asg_stark' appears more than once"):
        write_invoice_periods(con, datetime(2027, 1, 2, tzinfo=UTC))
    assert _periods(con) == before

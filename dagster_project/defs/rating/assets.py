"""Rating: invoice periods (Python calendar) and the dbt models that meter and rate usage."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.dbt import dbt_target_path, ensure_manifest, tallyhouse_dbt
from dagster_project.lib.invoice_periods import write_invoice_periods

# Marts built from what the invoicing asset writes run in a second dbt step (dbt → Python → dbt).
INVOICING_MODELS = "tag:invoicing"
# Record-grain structural tests (unique / not null / accepted values over the event-level
# models) run in the weekly audit (audit_job, `tallyhouse audit`), not every night: left out
# of the dbt assets, they are not Dagster asset checks of the nightly steps, so no check is
# declared that a night does not run (docs/operations.md).
AUDIT_TESTS = "tag:audit"


def set_dbt_clock(clock) -> None:
    # dbt reads the run's clock from TALLYHOUSE_AS_OF (an env var, not a --vars value, so
    # dbt's partial parsing survives a new clock), and one fixed target path keeps the
    # parse cache between runs.
    os.environ["TALLYHOUSE_AS_OF"] = clock.isoformat()


def run_dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, clock):
    set_dbt_clock(clock)
    # dbt's unit tests check model logic on fixed inputs, not the night's data: the test suite
    # runs them (tests/rating/test_dbt_unit_tests.py), the nightly build does not. The audit
    # tests are excluded here too: a subset run from the UI selects models, and dbt's indirect
    # selection would otherwise run their tests (dagster-dbt logs those as observations).
    # No manifest.json or run_results.json: Dagster reads dbt's event stream, and rewriting
    # the 1.4 MB manifest cost ~0.6 s a build (the parse cache is written regardless).
    invocation = dbt.cli(
        [
            "build",
            "--exclude-resource-type",
            "unit_test",
            "--exclude",
            AUDIT_TESTS,
            "--no-write-json",
        ],
        context=context,
        target_path=dbt_target_path(),
    )
    yield from invocation.stream()


@dbt_assets(
    manifest=ensure_manifest(),
    project=tallyhouse_dbt,
    exclude=f"{INVOICING_MODELS} {AUDIT_TESTS}",
    name="rating_models",
)
def rating_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, billing: BillingSettingsResource
):
    yield from run_dbt_build(context, dbt, billing.clock())


@dbt_assets(
    manifest=ensure_manifest(),
    project=tallyhouse_dbt,
    select=INVOICING_MODELS,
    exclude=AUDIT_TESTS,
    name="invoice_marts",
)
def invoice_marts(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, billing: BillingSettingsResource
):
    yield from run_dbt_build(context, dbt, billing.clock())


@dg.asset(
    key=["billing", "invoice_periods"],
    group_name="rating",
    deps=[["catalog", "plan_assignments"], ["catalog", "accounts"], ["catalog", "price_plans"]],
    description="Every billing cycle (or piece of one, when a plan assignment cuts it) of "
    "every plan assignment that has begun by the run's clock, in the account's timezone.",
)
def invoice_periods(
    warehouse: WarehouseResource, billing: BillingSettingsResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        summary = write_invoice_periods(con, billing.clock())
    return dg.MaterializeResult(
        metadata={"periods": summary.periods, "assignments laid out": summary.laid_out}
    )


@dg.op(
    name="dbt_audit_tests",
    description="The weekly audit: the dbt tests tagged audit (record-grain structure of the "
    "event-level models, left out of the nightly build) against the warehouse; fails naming "
    "every test that found rows breaking its invariant.",
)
def dbt_audit_tests(
    context: dg.OpExecutionContext,
    dbt: DbtCliResource,
    billing: BillingSettingsResource,
    warehouse: WarehouseResource,  # its setup takes the warehouse's run lock: one run at a time
) -> dg.Output[int]:
    set_dbt_clock(billing.clock())
    # No Dagster context: these tests are not asset checks of the nightly dbt assets.
    invocation = dbt.cli(
        ["test", "--select", AUDIT_TESTS],
        target_path=dbt_target_path(),
        raise_on_error=False,
    )
    invocation.wait()
    # Tests only: an on-run-start hook is a result too.
    results = [
        r
        for r in invocation.get_artifact("run_results.json")["results"]
        if r["unique_id"].startswith("test.")
    ]
    failed = [r for r in results if r["status"] not in ("pass", "skipped")]
    metadata = {"tests run": len(results), "tests failed": len(failed)}
    if not results or (not invocation.is_successful() and not failed):
        raise dg.Failure(
            description=f"dbt test --select {AUDIT_TESTS} ran no test or did not finish; "
            f"dbt's log: {dbt_target_path() / 'dbt.log'}",
            metadata=metadata,
        )
    if failed:
        lines = [
            f"{r['unique_id'].split('.')[2]}: {r['status']}, {r.get('failures') or 0} row(s)"
            + (f" ({r['message']})" if r["status"] == "error" and r.get("message") else "")
            for r in failed
        ]
        raise dg.Failure(
            description=f"{len(failed)} of {len(results)} audit test(s) failed:\n"
            + "\n".join(lines),
            metadata=metadata,
        )
    context.log.info(f"{len(results)} audit tests passed")
    return dg.Output(len(results), metadata=metadata)

"""The `tallyhouse` command: a thin layer over the Dagster definitions (CONTRACT §3)."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.table import Table

from dagster_project.settings import DEMO_CATALOG, Settings, parse_as_of

console = Console(stderr=True)
out = Console()

DEMO_START = date(2026, 11, 1)
DEMO_DAYS = 30
DEMO_EVENTS = 20_000
DEMO_SEED = 7
# The demo's own token secret (CONTRACT §3: no default outside `demo`); never for production.
DEMO_PORTAL_SECRET = "tallyhouse-demo-portal-secret-not-for-production"
DEMO_TOKEN_TTL = 7 * 24 * 3600


class UserError(Exception):
    """A problem the user can fix; printed as one paragraph, without a traceback."""


# ---------------------------------------------------------------- nightly run


def _apply_settings(settings: Settings) -> None:
    """Settings travel as TALLYHOUSE_* variables: Dagster resources and dbt read the same ones."""
    os.environ.update(settings.to_env())


def _unwrap(error: BaseException) -> BaseException:
    """The user's exception behind Dagster's step-failure wrappers."""
    seen = error
    while True:
        inner = getattr(seen, "user_exception", None) or seen.__cause__
        if inner is None or inner is seen:
            return seen
        seen = inner


def run_nightly(settings: Settings) -> None:
    """Materialize nightly_billing_job in-process; raise UserError on failure."""
    settings = settings.with_overrides(
        catalog=settings.catalog.resolve(),
        landing=settings.landing.resolve(),
        warehouse=settings.warehouse.resolve(),
        serving=settings.serving.resolve(),
        spark_dir=settings.spark_dir.resolve(),
        as_of=settings.clock(),
    )
    _apply_settings(settings)
    from dagster_project.lib.catalog import CatalogError

    log_path = _job_log_path(settings, "nightly")
    try:
        result = _execute_job("nightly_billing_job", log_path)
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable paragraph
        cause = _unwrap(error)
        if isinstance(cause, CatalogError):
            raise UserError(
                f"The catalog in {settings.catalog} is invalid; nothing was billed.\n{cause}"
            ) from error
        raise UserError(
            f"The nightly billing run failed: {type(cause).__name__}: {cause}\n"
            f"dbt's log of the run: {log_path}"
        ) from error
    if not result.success:
        raise UserError(f"The nightly billing run failed; dbt's log of the run: {log_path}")


def _job_log_path(settings: Settings, kind: str) -> Path:
    path = settings.warehouse.parent / "logs" / f"{kind}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _execute_job(job_name: str, log_path: Path):
    """Run a job of the definitions in-process (settings already applied); raises on failure."""
    from dagster_project.definitions import defs

    job = defs.resolve_job_def(job_name)
    # dbt's progress lines go to a log file, not the terminal: the summary is what people read.
    # The instance is disposed after the run: its storages close their event-log files.
    with (
        _dagster_instance() as instance,
        log_path.open("w") as log,
        contextlib.redirect_stdout(log),
    ):
        return job.execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=True,
        )


def run_audit(settings: Settings) -> int:
    """Run audit_job in-process (the dbt tests the nightly build leaves out) against the
    warehouse, under its run lock; return the number of tests that passed, or raise UserError
    naming the tests that failed."""
    settings = settings.with_overrides(
        warehouse=settings.warehouse.resolve(), as_of=settings.clock()
    )
    _apply_settings(settings)
    if not settings.warehouse.exists():
        raise UserError(f"No warehouse at {settings.warehouse}: run `tallyhouse run` first.")
    log_path = _job_log_path(settings, "audit")
    try:
        result = _execute_job("audit_job", log_path)
    except Exception as error:  # noqa: BLE001 - every failure becomes one readable paragraph
        cause = _unwrap(error)
        raise UserError(
            f"The audit of {settings.warehouse} failed: {cause}\ndbt's log of the run: {log_path}"
        ) from error
    return result.output_for_node("dbt_audit_tests")


def _dagster_instance():
    """The project-local instance when DAGSTER_HOME is set (make targets), else ephemeral."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    from dagster_project.lib.run_lock import warehouse_run_lock

    config = Path(home) / "dagster.yaml"
    # Two runs started at once on a fresh home would both create the instance's SQLite tables
    # ("table instigators already exists"): one creates them while the other waits, so the
    # loser reaches the warehouse lock and refuses with its readable message.
    with warehouse_run_lock(Path(home) / "instance", purpose="creating", wait_seconds=120):
        if not config.exists():
            config.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(Path(__file__).parent / "dagster.yaml", config)
        instance = dg.DagsterInstance.get()
        for storage in ("run_storage", "event_log_storage", "schedule_storage"):
            getattr(instance, storage)  # created lazily: create them under the lock
    return instance


def print_run_summary(settings: Settings) -> None:
    from dagster_project.lib.reports import run_report

    report = run_report(settings.warehouse)
    files = Table(title="Landing files", title_justify="left")
    for column in ("status", "files", "records"):
        files.add_column(column, justify="left" if column == "status" else "right")
    for status, n_files, n_records in report.files:
        files.add_row(status, f"{n_files:,}", f"{n_records:,}")
    out.print(files)

    records = Table(title="Records by pipeline status", title_justify="left")
    records.add_column("status")
    records.add_column("records", justify="right")
    records.add_column("example reason")
    for status, count, reason in report.statuses:
        records.add_row(status, f"{count:,}", reason or "")
    records.add_section()
    records.add_row("total", f"{report.total_records:,}", "")
    out.print(records)

    invoices = Table(title="Invoices by currency and status", title_justify="left")
    for column in ("currency", "status", "invoices", "total", "amount due"):
        invoices.add_column(column, justify="left" if column in ("currency", "status") else "right")
    for currency, status, count, total, due in report.invoices:
        invoices.add_row(
            currency, status, f"{count:,}", money(total, currency), money(due, currency)
        )
    out.print(invoices)

    largest = Table(title="Largest invoices per currency", title_justify="left")
    for column in ("invoice", "account", "plan", "total", "status"):
        largest.add_column(column, justify="right" if column == "total" else "left")
    for invoice_id, account_id, plan_id, currency, total, status in report.largest:
        largest.add_row(
            invoice_id, account_id, plan_id, f"{money(total, currency)} {currency}", status
        )
    out.print(largest)
    if report.needs_review:
        console.print(f"[yellow]{report.needs_review} invoice(s) need review[/yellow]")


def money(amount, currency: str) -> str:
    """An amount at its currency's minor unit, thousands grouped (JPY 290,000; USD 12.50)."""
    from dagster_project.lib.catalog import minor_units

    return f"{amount:,.{minor_units(currency)}f}"


# ---------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> None:
    settings = Settings.from_env().with_overrides(
        catalog=args.catalog,
        landing=args.landing,
        warehouse=args.warehouse,
        as_of=parse_as_of(args.as_of) if args.as_of else None,
    )
    started = time.monotonic()
    with console.status("Running nightly_billing_job (ingest, catalog, dbt models)…"):
        run_nightly(settings)
    print_run_summary(settings)
    console.print(
        f"[green]nightly_billing_job succeeded[/green] in {time.monotonic() - started:.1f} s"
    )


def cmd_audit(args: argparse.Namespace) -> None:
    settings = Settings.from_env().with_overrides(
        warehouse=args.warehouse,
        as_of=parse_as_of(args.as_of) if args.as_of else None,
    )
    started = time.monotonic()
    with console.status("Running audit_job (the dbt tests the nightly build leaves out)…"):
        passed = run_audit(settings)
    console.print(
        f"[green]audit_job succeeded[/green]: {passed} audit tests passed "
        f"in {time.monotonic() - started:.1f} s"
    )


def cmd_generate(args: argparse.Namespace) -> None:
    from dagster_project.lib.generator import generate_catalog, generate_events

    out_dir = Path(args.out)
    start = date.fromisoformat(args.start)
    started = time.monotonic()
    with console.status(f"Generating a catalog of {args.accounts:,} accounts…"):
        catalog_dir = generate_catalog(out_dir, accounts=args.accounts, seed=args.seed, start=start)
    with console.status(f"Generating {args.events:,} events over {args.days} days…"):
        manifest = generate_events(
            catalog_dir,
            out_dir,
            events=args.events,
            days=args.days,
            seed=args.seed,
            start=start,
            fmt=args.format,
        )
    elapsed = time.monotonic() - started
    table = Table(title=f"Generated into {out_dir}", title_justify="left")
    table.add_column("expected status")
    table.add_column("records", justify="right")
    for status, count in sorted(manifest.expected_status_counts.items()):
        table.add_row(status, f"{count:,}")
    out.print(table)
    console.print(
        f"{manifest.records_total:,} records in {len(manifest.files)} files, "
        f"{elapsed:.1f} s ({manifest.records_total / max(elapsed, 1e-9):,.0f} records/s); "
        f"bill them with --as-of {manifest.recommended_as_of}"
    )


def cmd_demo(args: argparse.Namespace) -> None:
    from dagster_project.lib.generator import generate_events

    demo_dir = Path(args.dir).resolve()
    # The demo owns its folder: start clean so every `make demo` shows the same run.
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    catalog_dir = demo_dir / "catalog"
    shutil.copytree(DEMO_CATALOG, catalog_dir)
    with console.status(f"Generating {DEMO_EVENTS:,} demo events for November 2026…"):
        manifest = generate_events(
            catalog_dir,
            demo_dir,
            events=DEMO_EVENTS,
            days=DEMO_DAYS,
            seed=DEMO_SEED,
            start=DEMO_START,
            fmt="jsonl",
        )
    settings = Settings.from_env().with_overrides(
        catalog=catalog_dir,
        landing=demo_dir / "landing",
        warehouse=demo_dir / "warehouse.duckdb",
        serving=demo_dir / "serving.duckdb",
        as_of=parse_as_of(str(manifest.recommended_as_of)),
    )
    settings = settings.with_overrides(portal_secret=settings.portal_secret or DEMO_PORTAL_SECRET)
    started = time.monotonic()
    with console.status("Running nightly_billing_job on the embedded DuckDB…"):
        run_nightly(settings)
    print_run_summary(settings)
    console.print(
        f"[green]Demo billed[/green] in {time.monotonic() - started:.1f} s. "
        f"Warehouse: {settings.warehouse}"
    )
    print_dashboard_links(settings)


def print_dashboard_links(settings: Settings) -> None:
    """How to open the demo's dashboards, with a finance token and a customer's portal."""
    finance = issue_cli_token(
        settings, scope="finance", customer_id=None, accounts=None, ttl_seconds=DEMO_TOKEN_TTL
    )
    portal = issue_cli_token(
        settings, scope="portal", customer_id="cus_acme", accounts=None, ttl_seconds=DEMO_TOKEN_TTL
    )
    console.print(
        "Dashboards: start the app with\n"
        f"  TALLYHOUSE_SERVING={settings.serving} TALLYHOUSE_PORTAL_SECRET={settings.portal_secret} "
        "streamlit run dashboards/streamlit_app.py\n"
        f"then open finance:  http://localhost:8501/?token={finance}\n"
        f"     Acme's portal: http://localhost:8501/portal?token={portal}",
        highlight=False,
        soft_wrap=True,
    )


def explain_event(warehouse: Path, event_id: str) -> list[str]:
    """The pipeline log rows of an event id, in words (a resent id has several records)."""
    from dagster_project.lib.warehouse import warehouse_connection

    with warehouse_connection(warehouse, read_only=True) as con:
        cursor = con.execute(
            """select raw_ref, received_at, event_timestamp, account_id, status, status_reason,
                      matched_meter_ids, plan_id, cycle_start, cycle_end, invoice_id, revenue,
                      revenue_computed
               from marts.fct_event_pipeline_log where event_id = ? order by record_seq""",
            [event_id],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    paragraphs = []
    for row in rows:
        lines = [
            f"Event {event_id} ({row['raw_ref']}, received {row['received_at']}): {row['status']}."
        ]
        if row["status"] == "METERED":
            lines.append(
                f"Account {row['account_id']}, plan {row['plan_id']}, cycle "
                f"{row['cycle_start']} to {row['cycle_end']}; matched meters "
                f"{', '.join(row['matched_meter_ids'] or [])}; billed on invoice "
                f"{row['invoice_id']} for {row['revenue']} (unrounded)."
                if row["revenue_computed"]
                else f"Account {row['account_id']}, plan {row['plan_id']}: it matched meters "
                f"{', '.join(row['matched_meter_ids'] or [])}, which the plan does not price."
            )
        else:
            lines.append(f"Not billed: {row['status_reason']}.")
        paragraphs.append(" ".join(lines))
    return paragraphs


def cmd_explain(args: argparse.Namespace) -> None:
    settings = Settings.from_env().with_overrides(warehouse=args.warehouse)
    paragraphs = explain_event(settings.warehouse, args.event_id)
    if not paragraphs:
        raise UserError(f"No record with event id {args.event_id!r} in {settings.warehouse}.")
    for paragraph in paragraphs:
        out.print(paragraph, highlight=False)


def issue_cli_token(
    settings: Settings,
    *,
    scope: str,
    customer_id: str | None,
    accounts: list[str] | None,
    ttl_seconds: int,
) -> str:
    """A token for `tallyhouse token`: customer and accounts checked against the snapshot."""
    from dagster_project.lib.tokens import (
        TokenError,
        check_secret,
        issue_token,
        load_tenancy,
        resolve_accounts,
        verify_token,
    )

    try:
        check_secret(settings.portal_secret)
        token = issue_token(
            settings.portal_secret,
            scope=scope,
            customer_id=customer_id,
            accounts=accounts,
            ttl_seconds=ttl_seconds,
        )
        if scope != "finance":
            # Refuse now what the app would refuse later: an unknown customer or an account
            # of someone else.
            if not settings.serving.exists():
                raise UserError(
                    f"No serving snapshot at {settings.serving} yet, so customer {customer_id} "
                    "cannot be checked: run `tallyhouse run` first (or set TALLYHOUSE_SERVING)."
                )
            claims = verify_token(token, settings.portal_secret, scope=scope)
            resolve_accounts(claims, load_tenancy(settings.serving))
    except TokenError as error:
        raise UserError(str(error)) from None
    return token


def cmd_token(args: argparse.Namespace) -> None:
    settings = Settings.from_env().with_overrides(serving=args.serving)
    accounts = args.accounts.split(",") if args.accounts is not None else None
    token = issue_cli_token(
        settings,
        scope=args.scope,
        customer_id=args.customer,
        accounts=accounts,
        ttl_seconds=args.ttl,
    )
    # The token alone on stdout, so `$(tallyhouse token ...)` captures it.
    print(token)


def cmd_rerate(args: argparse.Namespace) -> None:
    from dagster_project.lib.catalog import CatalogError
    from dagster_project.lib.rerate import RerateError, rerate
    from dagster_project.lib.run_lock import WarehouseBusy

    settings = Settings.from_env().with_overrides(catalog=args.catalog, warehouse=args.warehouse)
    try:
        first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError as error:
        raise UserError(f"--from and --to are dates like 2026-11-01: {error}") from None
    try:
        with console.status(f"Re-rating finalized cycles from {first} to {last}…"):
            report = rerate(settings.warehouse, settings.catalog, first, last)
    except CatalogError as error:
        raise UserError(
            f"The catalog in {settings.catalog} is invalid; nothing was re-rated.\n{error}"
        ) from error
    except (RerateError, WarehouseBusy) as error:
        raise UserError(str(error)) from error
    table = Table(title="Re-rated invoices", title_justify="left")
    for column in ("invoice", "account", "period start", "stored", "re-rated", "difference"):
        table.add_column(column, justify="left" if column in ("invoice", "account") else "right")
    for inv in report.invoices:
        table.add_row(
            inv.invoice_id,
            inv.account_id,
            f"{inv.period_start:%Y-%m-%d}",
            money(inv.stored_total, inv.currency),
            money(inv.rerated_total, inv.currency),
            f"{money(inv.difference, inv.currency)} {inv.currency}",
        )
    table.add_section()
    for currency, (stored, rerated, difference) in report.totals().items():
        table.add_row(
            "total",
            currency,
            "",
            money(stored, currency),
            money(rerated, currency),
            f"{money(difference, currency)} {currency}",
        )
    out.print(table)
    console.print(
        f"{len(report.invoices)} finalized invoice(s) re-rated with {report.catalog} into "
        f"{report.database} (schema rerate); the stored invoices were not changed."
    )


def ui_commands(*, dagster_port: int, app_port: int, with_app: bool) -> list[list[str]]:
    """`dagster dev` (webserver + daemon) and the Streamlit app, both on loopback only."""
    bin_dir = Path(sys.executable).parent
    commands = [
        [
            str(bin_dir / "dagster"),
            "dev",
            "-m",
            "dagster_project.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(dagster_port),
        ]
    ]
    app = Path(__file__).resolve().parents[1] / "dashboards" / "streamlit_app.py"
    if with_app and app.exists():
        commands.append(
            [
                str(bin_dir / "streamlit"),
                "run",
                str(app),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(app_port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ]
        )
    return commands


def cmd_ui(args: argparse.Namespace) -> None:
    import signal
    import subprocess

    settings = Settings.from_env().with_overrides(
        catalog=args.catalog,
        landing=args.landing,
        warehouse=args.warehouse,
        as_of=parse_as_of(args.as_of) if args.as_of else None,
    )
    settings = settings.with_overrides(
        catalog=settings.catalog.resolve(),
        landing=settings.landing.resolve(),
        warehouse=settings.warehouse.resolve(),
        serving=settings.serving.resolve(),
        spark_dir=settings.spark_dir.resolve(),
    )
    # The embedded instance: SQLite storage in a project-local DAGSTER_HOME, one run at a
    # time (dagster.yaml's run queue), because DuckDB takes one writer.
    home = Path(args.dagster_home or os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(Path(__file__).parent / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, **settings.to_env(), "DAGSTER_HOME": str(home)}
    commands = ui_commands(dagster_port=args.port, app_port=args.app_port, with_app=not args.no_app)

    def stop(signum, frame):
        raise KeyboardInterrupt

    # SIGTERM (a supervisor, a test) stops the children like Ctrl-C does.
    signal.signal(signal.SIGTERM, stop)
    processes = [subprocess.Popen(c, env=env, start_new_session=True) for c in commands]
    console.print(f"Dagster UI: http://127.0.0.1:{args.port} (DAGSTER_HOME={home})")
    if len(processes) > 1:
        console.print(f"Tallyhouse app: http://127.0.0.1:{args.app_port}")
    else:
        console.print("The Streamlit app was not started (dashboards/streamlit_app.py missing).")
    # A child that stops on its own is an error; children stopped by us are not.
    exited_alone = []
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        exited_alone = [c[0] for c, p in zip(commands, processes, strict=True) if p.poll()]
    except KeyboardInterrupt:
        pass
    finally:
        # Each child leads its own process group: stop the group (dagster dev's daemon and
        # code server included), then make sure.
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    if exited_alone:
        raise UserError(f"{', '.join(exited_alone)} stopped with an error; see the output above.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tallyhouse", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="materialize the nightly billing job in-process")
    run.add_argument("--catalog", type=Path)
    run.add_argument("--landing", type=Path)
    run.add_argument("--warehouse", type=Path)
    run.add_argument("--as-of", help="the run's clock (ISO timestamp; default now)")
    run.set_defaults(handler=cmd_run)

    audit = commands.add_parser(
        "audit", help="run the dbt tests the nightly build leaves out (the weekly audit)"
    )
    audit.add_argument("--warehouse", type=Path)
    audit.add_argument("--as-of", help="the clock dbt sees (ISO timestamp; default now)")
    audit.set_defaults(handler=cmd_audit)

    generate = commands.add_parser("generate", help="write a synthetic catalog and events")
    generate.add_argument("--accounts", type=int, default=100)
    generate.add_argument("--events", type=int, default=100_000)
    generate.add_argument("--days", type=int, default=30)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--start", default="2026-11-01", help="first day of events")
    generate.add_argument("--out", required=True)
    generate.add_argument("--format", choices=["jsonl", "jsonl.gz", "parquet"], default="jsonl")
    generate.set_defaults(handler=cmd_generate)

    explain = commands.add_parser("explain", help="why an event was or was not billed")
    explain.add_argument("event_id")
    explain.add_argument("--warehouse", type=Path)
    explain.set_defaults(handler=cmd_explain)

    token = commands.add_parser(
        "token", help="print a signed token for the dashboards (the app takes it as ?token=)"
    )
    token.add_argument("--customer", help="customer id (portal and widget tokens)")
    token.add_argument("--accounts", help="at most 5 comma-separated account ids (default: all)")
    token.add_argument("--scope", choices=["portal", "widget", "finance"], default="portal")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.add_argument("--serving", type=Path, help="serving snapshot to check the customer in")
    token.set_defaults(handler=cmd_token)

    rerate = commands.add_parser(
        "rerate", help="re-rate finalized cycles with a catalog and report the differences"
    )
    rerate.add_argument("--from", dest="date_from", required=True, help="first period start")
    rerate.add_argument("--to", dest="date_to", required=True, help="last period start")
    rerate.add_argument("--catalog", type=Path, help="the catalog to re-rate with")
    rerate.add_argument("--warehouse", type=Path)
    rerate.set_defaults(handler=cmd_rerate)

    ui = commands.add_parser("ui", help="start the Dagster UI and the Streamlit app (loopback)")
    ui.add_argument("--port", type=int, default=3000, help="Dagster UI port")
    ui.add_argument("--app-port", type=int, default=8501, help="Streamlit app port")
    ui.add_argument("--no-app", action="store_true", help="start the Dagster UI only")
    ui.add_argument("--dagster-home", help="default: $DAGSTER_HOME, else ./.dagster_home")
    ui.add_argument("--catalog", type=Path)
    ui.add_argument("--landing", type=Path)
    ui.add_argument("--warehouse", type=Path)
    ui.add_argument("--as-of", help="pin every run's clock (ISO timestamp)")
    ui.set_defaults(handler=cmd_ui)

    demo = commands.add_parser("demo", help="bill the bundled demo catalog end to end")
    demo.add_argument("--dir", default="data/demo", help="folder the demo owns (reset each time)")
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except UserError as error:
        if args.debug:
            raise
        console.print(f"[red]error:[/red] {error}", highlight=False)
        return 1
    except Exception as error:  # noqa: BLE001
        if args.debug:
            raise
        console.print(
            f"[red]error:[/red] {type(error).__name__}: {error} (rerun with --debug for details)"
        )
        return 1
    return 0


def entry(argv: list[str] | None = None) -> NoReturn:
    """The `tallyhouse` script: main(), then leave without the interpreter's teardown.

    A night imports Dagster, dbt and their thousands of classes; freeing them one by one at
    exit took ~1.5 s of every run. When main() returns, the warehouse, the event log and the
    log files are closed by their context managers. If a thread that a normal exit would wait
    for is still running, the exit is a normal one; else the exit handlers (logging's flush
    among them) run and the standard streams are flushed, then the process ends."""
    code = main(argv)
    if any(
        thread is not threading.main_thread() and not thread.daemon and thread.is_alive()
        for thread in threading.enumerate()
    ):
        sys.exit(code)
    atexit._run_exitfuncs()  # os._exit skips them
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()

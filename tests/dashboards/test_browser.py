"""A real browser: `streamlit run` on 127.0.0.1, headless Chromium (Debian's) via Playwright,
the portal and the three widgets (embedded), their visible figures, and screenshots."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from .conftest import APP, SECRET, token

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(dashboard_warehouse):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    port = _free_port()
    env = {
        **os.environ,
        "TALLYHOUSE_SERVING": str(dashboard_warehouse.serving),
        "TALLYHOUSE_PORTAL_SECRET": SECRET,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"streamlit did not start: {server.stderr.read().decode()[-2000:]}"
                )
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser, url: str, ready_text: str):
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_text(ready_text, exact=False).first.wait_for()
    return page


def _metric(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    metric.wait_for()
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _shot(page, name: str, charts: int = 0, tables: int = 0) -> None:
    """A full-page screenshot once the page's charts and tables have drawn."""
    page.wait_for_function(
        """([charts, tables]) =>
            document.querySelectorAll('[data-testid="stVegaLiteChart"] canvas, '
                                      + '[data-testid="stVegaLiteChart"] svg').length >= charts
            && document.querySelectorAll('[data-testid="stDataFrame"] canvas').length >= tables""",
        arg=[charts, tables],
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_portal_in_a_browser(app_url, browser, dashboard_warehouse):
    page = _open(browser, f"{app_url}/portal?token={token('portal', 'cust_a')}", "Acme Analytics")
    page.get_by_text("0.10 USD per unit", exact=False).first.wait_for()
    _shot(page, "portal-plans")
    page.get_by_role("tab", name="Credits").click()
    assert _metric(page, "Credit available (USD)") == "2.00 USD"
    assert _metric(page, "Credit granted (USD)") == "8.00 USD"
    _shot(page, "portal-credits", tables=1)
    page.get_by_role("tab", name="Wallet").click()
    assert _metric(page, "Wallet · acc_a1") == "0.00 USD"
    assert "Brightside" not in page.content()
    # While the app is serving, another process can still open the warehouse to write:
    # the app never holds its lock.
    con = duckdb.connect(str(dashboard_warehouse.settings.warehouse))
    assert con.execute("select count(*) from marts.fct_invoices").fetchall() == [(5,)]
    con.close()
    page.close()


@pytest.mark.parametrize(
    ("path", "customer", "figures", "drawn"),
    [
        ("cost-metrics", "cust_a", {"Cost incurred (USD)": "30.19 USD"}, (1, 1)),
        (
            "credit-balance",
            "cust_a",
            {"Granted (USD)": "8.00 USD", "Available (USD)": "2.00 USD"},
            (1, 1),
        ),
        ("usage-metrics", "cust_b", {"API calls": "21", "Storage (GB)": "4"}, (1, 0)),
    ],
)
def test_widget_embedded_in_a_browser(app_url, browser, path, customer, figures, drawn):
    url = f"{app_url}/{path}?token={token('widget', customer)}&embed=true"
    page = _open(browser, url, next(iter(figures)))
    for label, value in figures.items():
        assert _metric(page, label) == value
    # Embedded: no sidebar, no toolbar.
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    _shot(page, f"widget-{path}", *drawn)
    page.close()


def test_a_bad_token_in_a_browser_shows_the_reason(app_url, browser):
    expired = token("widget", "cust_a", ttl_seconds=60, now=datetime.now(UTC) - timedelta(hours=1))
    page = _open(browser, f"{app_url}/cost-metrics?token={expired}&embed=true", "expired")
    assert page.locator('[data-testid="stMetric"]').count() == 0
    page.close()


def test_finance_link_lands_on_revenue_and_the_sidebar_keeps_the_token(app_url, browser):
    page = _open(browser, f"{app_url}/?token={token('finance')}", "Invoiced (USD)")
    assert _metric(page, "Invoiced (USD)") == "81.69 USD"
    page.locator('[data-testid="stSidebar"]').get_by_text("Late usage & data quality").click()
    assert _metric(page, "Late (not billed)") == "1"
    assert "token=" in page.url
    _shot(page, "finance-data-quality", charts=1, tables=1)
    page.close()

"""The token gate every page passes first: `access = require("portal")`.

The token travels in the URL (`?token=…`), so a portal link or a widget iframe carries its
own access and nothing is remembered between sessions. A missing, expired, tampered or
wrong-scope token, or one naming accounts its customer does not hold, stops the page with a
clear message before any query runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dagster_project.lib.tokens import TokenClaims, TokenError, resolve_accounts, verify_token
from dagster_project.settings import Settings
from dashboards import data


@dataclass(frozen=True)
class Access:
    scope: str
    customer_id: str | None
    accounts: tuple[str, ...]  # the accounts every customer query is filtered by
    token: str


def request_token() -> str | None:
    return st.query_params.get("token")


def token_claims(scope: str | None = None) -> TokenClaims:
    return verify_token(request_token(), Settings.from_env().portal_secret, scope=scope)


def require(scope: str) -> Access:
    """The request's access for a page of `scope`, or the page stops with the reason."""
    try:
        claims = token_claims(scope)
    except TokenError as error:
        st.error(str(error), icon=":material/lock:")
        st.stop()
    require_snapshot()
    accounts: tuple[str, ...] = ()
    if scope != "finance":
        try:
            accounts = resolve_accounts(claims, data.tenancy())
        except TokenError as error:
            st.error(str(error), icon=":material/lock:")
            st.stop()
    return Access(scope, claims.customer_id, accounts, request_token() or "")


def require_snapshot() -> None:
    """A friendly page, not a stack trace, before the first run has published anything."""
    try:
        data.current_version()
    except data.SnapshotMissing as missing:
        st.info(
            "No billing run has been published yet, so there is nothing to show. Every "
            "successful nightly run publishes its figures to the serving snapshot "
            f"(`{missing}`); run `tallyhouse run` (or `tallyhouse demo`) and reload this page.",
            icon=":material/hourglass_empty:",
        )
        st.stop()


def snapshot_caption() -> None:
    info = data.snapshot_info()
    if info:
        st.caption(
            f"Figures as billed by the run of {info['run_clock']:%Y-%m-%d %H:%M} UTC, "
            f"published {info['published_at']:%Y-%m-%d %H:%M} UTC."
        )

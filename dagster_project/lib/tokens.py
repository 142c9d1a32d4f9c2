"""Scoped access tokens for the dashboards (CONTRACT §3): JWTs signed with HS256.

A token names its scope (`finance`, `portal`, `widget`), and for portal and widget tokens
the customer and the accounts it may see: at most five account ids, or "*" for every
account the customer holds when the token is used. The signature, expiry and not-before are
checked by PyJWT with HS256 as the only accepted algorithm (so `alg: none` and algorithm
swaps are refused); the accounts are then checked against the serving snapshot's
dim_accounts, so a deleted account or one that belongs to another customer shows nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

ALGORITHM = "HS256"
ISSUER = "tallyhouse"
SCOPES = ("finance", "portal", "widget")
CUSTOMER_SCOPES = ("portal", "widget")
MAX_ACCOUNTS = 5
ALL_ACCOUNTS = "*"
MIN_SECRET_LENGTH = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash
DEFAULT_TTL_SECONDS = 3600


class TokenError(Exception):
    """A token that grants nothing; the message is shown to the person holding it."""


@dataclass(frozen=True)
class TokenClaims:
    scope: str
    customer_id: str | None
    accounts: tuple[str, ...] | None  # None: every account of the customer
    expires_at: datetime


@dataclass(frozen=True)
class Tenancy:
    """Who owns what, as the serving snapshot says: account → customer, and the customers."""

    customers: frozenset[str]
    account_owners: Mapping[str, str]

    def accounts_of(self, customer_id: str) -> tuple[str, ...]:
        return tuple(sorted(a for a, owner in self.account_owners.items() if owner == customer_id))


def check_secret(secret: str | None) -> str:
    if not secret:
        raise TokenError(
            "TALLYHOUSE_PORTAL_SECRET is not set: tokens cannot be issued or checked. Set it "
            f"to a random string of at least {MIN_SECRET_LENGTH} characters, e.g. the output "
            "of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    if len(secret.encode()) < MIN_SECRET_LENGTH:
        raise TokenError(
            f"TALLYHOUSE_PORTAL_SECRET is {len(secret.encode())} bytes long; HS256 needs at "
            f"least {MIN_SECRET_LENGTH}."
        )
    return secret


def issue_token(
    secret: str | None,
    *,
    scope: str,
    customer_id: str | None = None,
    accounts: list[str] | tuple[str, ...] | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: datetime | None = None,
) -> str:
    """A signed token. `accounts` None means every account of the customer."""
    secret = check_secret(secret)
    if scope not in SCOPES:
        raise TokenError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")
    if ttl_seconds <= 0:
        raise TokenError(f"--ttl must be a positive number of seconds, not {ttl_seconds}")
    if scope == "finance":
        if customer_id or accounts:
            raise TokenError("a finance token covers every customer: give no --customer/--accounts")
    else:
        if not customer_id:
            raise TokenError(f"a {scope} token needs --customer")
        if accounts is not None:
            accounts = list(dict.fromkeys(a.strip() for a in accounts if a.strip()))
            if not accounts:
                raise TokenError(
                    "--accounts is empty; leave it out for all the customer's accounts"
                )
            if len(accounts) > MAX_ACCOUNTS:
                raise TokenError(
                    f"a token names at most {MAX_ACCOUNTS} accounts ({len(accounts)} given); "
                    "leave --accounts out for all of the customer's accounts"
                )
    issued = (now or datetime.now(UTC)).astimezone(UTC)
    payload = {
        "iss": ISSUER,
        "sub": customer_id if scope != "finance" else "finance",
        "scope": scope,
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    if scope != "finance":
        payload["customer"] = customer_id
        payload["accounts"] = ALL_ACCOUNTS if accounts is None else accounts
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify_token(token: str | None, secret: str | None, *, scope: str | None) -> TokenClaims:
    """The token's claims if it is genuine, current and of `scope` (None: any); else
    TokenError."""
    if not token or not token.strip():
        raise TokenError(
            f"This page needs a{' ' + scope if scope else ''} token: open it with ?token=… "
            "(ask your Tallyhouse administrator for a link; `tallyhouse token` issues one)."
        )
    secret = check_secret(secret)
    try:
        payload = jwt.decode(
            token.strip(),
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "nbf", "iat", "iss", "scope"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("This token has expired; ask for a new link.") from None
    except jwt.ImmatureSignatureError:
        raise TokenError("This token is not valid yet (its start time is in the future).") from None
    except jwt.InvalidAlgorithmError:
        raise TokenError(
            f"This token is not signed with {ALGORITHM}; it is refused (unsigned or "
            "differently signed tokens are never accepted)."
        ) from None
    except jwt.InvalidSignatureError:
        raise TokenError(
            "This token's signature does not match: it was altered or not issued here."
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise TokenError(f"This token lacks the {error.claim!r} claim; it is refused.") from None
    except jwt.InvalidIssuerError:
        raise TokenError("This token was not issued by Tallyhouse; it is refused.") from None
    except jwt.PyJWTError as error:
        raise TokenError(f"This is not a valid token ({error}).") from None

    granted = payload.get("scope")
    if granted not in SCOPES:
        raise TokenError(f"This token's scope {granted!r} is unknown; it is refused.")
    if scope is not None and granted != scope:
        raise TokenError(f"This token is for the {granted} pages; this page needs a {scope} token.")
    expires_at = datetime.fromtimestamp(payload["exp"], UTC)
    if granted == "finance":
        return TokenClaims(granted, None, None, expires_at)
    customer = payload.get("customer")
    accounts = payload.get("accounts")
    if not isinstance(customer, str) or not customer or customer != payload.get("sub"):
        raise TokenError("This token names no customer; it is refused.")
    if accounts == ALL_ACCOUNTS:
        return TokenClaims(granted, customer, None, expires_at)
    if (
        not isinstance(accounts, list)
        or not accounts
        or len(accounts) > MAX_ACCOUNTS
        or not all(isinstance(a, str) and a for a in accounts)
    ):
        raise TokenError(
            f"This token's accounts must be 1 to {MAX_ACCOUNTS} account ids or '*'; it is refused."
        )
    return TokenClaims(granted, customer, tuple(accounts), expires_at)


def resolve_accounts(claims: TokenClaims, tenancy: Tenancy) -> tuple[str, ...]:
    """The accounts a customer token may see today, or TokenError naming what is wrong."""
    customer = claims.customer_id
    if customer is None:
        raise TokenError("A finance token has no customer accounts.")
    if customer not in tenancy.customers:
        raise TokenError(f"Customer {customer} no longer exists; this token shows nothing.")
    if claims.accounts is None:
        accounts = tenancy.accounts_of(customer)
        if not accounts:
            raise TokenError(f"Customer {customer} has no accounts.")
        return accounts
    for account in claims.accounts:
        owner = tenancy.account_owners.get(account)
        if owner is None:
            raise TokenError(f"Account {account} no longer exists; this token shows nothing.")
        if owner != customer:
            raise TokenError(
                f"Account {account} does not belong to customer {customer}; this token "
                "shows nothing."
            )
    return tuple(sorted(claims.accounts))


def load_tenancy(serving_path: Path | str) -> Tenancy:
    """Customers and account owners from the serving snapshot (opened read-only)."""
    import duckdb

    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        customers = [
            r[0] for r in con.execute("select customer_id from marts.dim_customers").fetchall()
        ]
        owners = con.execute("select account_id, customer_id from marts.dim_accounts").fetchall()
    finally:
        con.close()
    return Tenancy(frozenset(customers), dict(owners))

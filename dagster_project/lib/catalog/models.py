"""Typed, immutable models of the pricing catalog: pricing.yaml objects and table rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Names used inside JSON Logic variable paths (`usage.<rate_card_id>`,
# `attributes.<attribute>`) must not contain dots or spaces, or the path would be ambiguous.
CatalogName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")]
# Ids in the tables come from other systems (CRM, ERP): any non-blank text.
RowId = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# JSON Logic, numbers already exact Decimals (see load.py); checked by validate.py.
JsonLogic = Any


class _Model(BaseModel):
    # extra='forbid' turns a typo such as `agregation:` into a catalog error instead of a
    # silently ignored key.
    model_config = ConfigDict(frozen=True, extra="forbid")


class Aggregation(StrEnum):
    COUNT = "COUNT"
    SUM = "SUM"
    MAX = "MAX"
    UNIQUE_COUNT = "UNIQUE_COUNT"
    LATEST = "LATEST"


class BillingInterval(StrEnum):
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    ANNUALLY = "ANNUALLY"


class PricingModel(StrEnum):
    TIERED = "TIERED"
    VOLUME = "VOLUME"


class WalletTransactionType(StrEnum):
    TOPUP = "TOPUP"
    ADJUSTMENT = "ADJUSTMENT"


# --- pricing.yaml -------------------------------------------------------------------------


class Attribute(_Model):
    name: CatalogName
    unit: str | None = None


class EventSchema(_Model):
    name: CatalogName
    attributes: tuple[Attribute, ...] = ()
    dimensions: tuple[CatalogName, ...] = ()


class UsageMeter(_Model):
    id: CatalogName
    name: str
    event_schema: str
    aggregation: Aggregation
    value: JsonLogic = None
    filter: JsonLogic = None


class BillingCycle(_Model):
    interval: BillingInterval
    anchor_day: int | None = None
    anchor_month: int | None = None
    anchor_weekday: int | None = None
    grace_period_days: int = 0

    # The anchors in force, defaults filled in: day 1, January, Monday; None where the
    # anchor does not apply to the interval.
    @property
    def effective_anchor_day(self) -> int | None:
        if self.interval == BillingInterval.WEEKLY:
            return None
        return self.anchor_day if self.anchor_day is not None else 1

    @property
    def effective_anchor_month(self) -> int | None:
        if self.interval not in (BillingInterval.QUARTERLY, BillingInterval.ANNUALLY):
            return None
        return self.anchor_month if self.anchor_month is not None else 1

    @property
    def effective_anchor_weekday(self) -> int | None:
        if self.interval != BillingInterval.WEEKLY:
            return None
        return self.anchor_weekday if self.anchor_weekday is not None else 1


class Slab(_Model):
    start_after: Decimal
    rate: Decimal
    flat_fee: Decimal | None = None
    package_size: Decimal | None = None


class UsageRateCard(_Model):
    id: CatalogName
    type: Literal["USAGE"]
    meter: str
    pricing_model: PricingModel
    slabs: tuple[Slab, ...] = Field(min_length=1)
    minimum: Decimal | None = None
    maximum: Decimal | None = None


class FixedFeeRateCard(_Model):
    id: CatalogName
    type: Literal["FIXED_FEE"]
    amount: Decimal
    proration: bool = False


class MinimumCommitmentRateCard(_Model):
    id: CatalogName
    type: Literal["MINIMUM_COMMITMENT"]
    amount: Decimal


RateCard = UsageRateCard | FixedFeeRateCard | MinimumCommitmentRateCard
RATE_CARD_TYPES: dict[str, type[_Model]] = {
    "USAGE": UsageRateCard,
    "FIXED_FEE": FixedFeeRateCard,
    "MINIMUM_COMMITMENT": MinimumCommitmentRateCard,
}


class UpdateAction(_Model):
    type: Literal["UPDATE"]
    target: str


class AddAction(_Model):
    type: Literal["ADD"]
    code: CatalogName
    description: str


class PricingRule(_Model):
    id: CatalogName
    name: str | None = None
    order: int
    condition: JsonLogic = None
    computation: JsonLogic
    action: Annotated[UpdateAction | AddAction, Field(discriminator="type")]


class PricePlan(_Model):
    id: CatalogName
    name: str
    currency: CurrencyCode
    billing_cycle: BillingCycle
    rate_cards: tuple[Annotated[RateCard, Field(discriminator="type")], ...] = ()
    pricing_rules: tuple[PricingRule, ...] = ()

    def rate_card(self, rate_card_id: str) -> RateCard | None:
        return next((card for card in self.rate_cards if card.id == rate_card_id), None)


# --- tables --------------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    # A naive timestamp is read as UTC, as for usage events (CONTRACT §1.1).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Customer(_Model):
    customer_id: RowId
    name: str
    email: str | None = None


class Account(_Model):
    account_id: RowId
    customer_id: RowId
    name: str
    currency: CurrencyCode
    timezone: str = "UTC"
    aliases: tuple[RowId, ...] = ()


class PlanAssignment(_Model):
    assignment_id: RowId
    account_id: RowId
    plan_id: RowId
    effective_from: date
    # Inclusive last local day; None = open-ended.
    effective_until: date | None = None


class CreditGrant(_Model):
    credit_id: RowId
    account_id: RowId
    amount: Decimal
    currency: CurrencyCode
    priority: int
    effective_from: date
    effective_until: date | None = None
    # Rate-card ids; empty = every usage and fixed-fee line.
    applies_to: tuple[RowId, ...] = ()


class WalletTransaction(_Model):
    transaction_id: RowId
    account_id: RowId
    type: WalletTransactionType
    amount: Decimal
    currency: CurrencyCode
    occurred_at: Annotated[datetime, AfterValidator(_as_utc)]


# --- the whole catalog --------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """A loaded catalog; `version` is the sha256 of its files (see `catalog_version`)."""

    root: Path
    version: str
    event_schemas: tuple[EventSchema, ...] = ()
    usage_meters: tuple[UsageMeter, ...] = ()
    price_plans: tuple[PricePlan, ...] = ()
    customers: tuple[Customer, ...] = ()
    accounts: tuple[Account, ...] = ()
    plan_assignments: tuple[PlanAssignment, ...] = ()
    credit_grants: tuple[CreditGrant, ...] = ()
    wallet_transactions: tuple[WalletTransaction, ...] = ()

    @cached_property
    def event_schemas_by_name(self) -> dict[str, EventSchema]:
        return {schema.name: schema for schema in self.event_schemas}

    @cached_property
    def usage_meters_by_id(self) -> dict[str, UsageMeter]:
        return {meter.id: meter for meter in self.usage_meters}

    @cached_property
    def price_plans_by_id(self) -> dict[str, PricePlan]:
        return {plan.id: plan for plan in self.price_plans}

    @cached_property
    def customers_by_id(self) -> dict[str, Customer]:
        return {customer.customer_id: customer for customer in self.customers}

    @cached_property
    def accounts_by_id(self) -> dict[str, Account]:
        return {account.account_id: account for account in self.accounts}

    @cached_property
    def account_ids_by_alias(self) -> dict[str, str]:
        """Every id an event may carry (account ids and aliases) → the account id."""
        resolved = {alias: a.account_id for a in self.accounts for alias in a.aliases}
        resolved.update({a.account_id: a.account_id for a in self.accounts})
        return resolved

    def resolve_account(self, account_id_or_alias: str) -> Account | None:
        account_id = self.account_ids_by_alias.get(account_id_or_alias)
        return self.accounts_by_id.get(account_id) if account_id is not None else None

    def assignments_of(self, account_id: str) -> tuple[PlanAssignment, ...]:
        """The account's plan assignments, earliest first."""
        return tuple(
            sorted(
                (a for a in self.plan_assignments if a.account_id == account_id),
                key=lambda a: (a.effective_from, a.assignment_id),
            )
        )

    def assignment_on(self, account_id: str, local_day: date) -> PlanAssignment | None:
        """The plan assignment in force on one local day of the account (bounds inclusive)."""
        for assignment in self.assignments_of(account_id):
            until = assignment.effective_until
            if assignment.effective_from <= local_day and (until is None or local_day <= until):
                return assignment
        return None

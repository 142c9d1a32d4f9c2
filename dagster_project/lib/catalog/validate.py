"""Cross-object checks of a parsed catalog: ids, references, dates, money, JSON Logic."""

from __future__ import annotations

import functools
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rule_engine import (
    SqlCompileError,
    check_logic,
    compile_filter,
    compile_key,
    compile_value,
    logic_variables,
)

from .currencies import MINOR_UNITS
from .models import (
    Aggregation,
    BillingInterval,
    Catalog,
    FixedFeeRateCard,
    MinimumCommitmentRateCard,
    PricePlan,
    UpdateAction,
    UsageRateCard,
    WalletTransactionType,
)
from .problems import CatalogProblem, did_you_mean

PRICING_FILE = "pricing.yaml"
# Rule variables every plan defines, besides usage.<card> and revenue.<card> (SEMANTICS 11).
RULE_VARIABLES = (
    "subtotal",
    "account.id",
    "account.currency",
    "cycle.start",
    "cycle.end",
    "cycle.days",
)
# The warehouse stores money and quantities as DECIMAL(38,12).
MAX_SCALE = 12
MAX_INTEGER_DIGITS = 38 - MAX_SCALE


@dataclass
class SeenIds:
    """Ids present in the files, including objects that failed to parse.

    A reference to an object that exists but is broken is not reported again as "unknown":
    the object's own problem is the one to fix.
    """

    event_schemas: set[str] = field(default_factory=set)
    usage_meters: set[str] = field(default_factory=set)
    price_plans: set[str] = field(default_factory=set)
    rate_cards: dict[str, set[str]] = field(default_factory=dict)  # plan id → card ids
    customers: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    plan_assignments: set[str] = field(default_factory=set)
    credit_grants: set[str] = field(default_factory=set)
    wallet_transactions: set[str] = field(default_factory=set)

    def table(self, stem: str) -> set[str]:
        return getattr(self, stem)

    @classmethod
    def of(cls, catalog: Catalog) -> SeenIds:
        return cls(
            event_schemas={s.name for s in catalog.event_schemas},
            usage_meters={m.id for m in catalog.usage_meters},
            price_plans={p.id for p in catalog.price_plans},
            rate_cards={p.id: {c.id for c in p.rate_cards} for p in catalog.price_plans},
            customers={c.customer_id for c in catalog.customers},
            accounts={a.account_id for a in catalog.accounts},
        )


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a usable IANA timezone, or None."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"timezone '{name}' is not an IANA timezone{did_you_mean(name, _timezones())}"
    return None


def decimal_problem(value: Decimal | None, name: str) -> str | None:
    """Why `value` does not fit DECIMAL(38,12) exactly, or None."""
    if value is None:
        return None
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # non-finite values never pass the models
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if digits != (0,) and exponent + trailing_zeros < -MAX_SCALE:
        return f"{name}: {value} has more than {MAX_SCALE} decimal places"
    if len(digits) + exponent > MAX_INTEGER_DIGITS:
        return f"{name}: {value} is too large (more than {MAX_INTEGER_DIGITS} integer digits)"
    return None


def _duplicates(ids: Iterable[str]) -> list[tuple[str, int]]:
    counts = Counter(ids)
    return [(object_id, n) for object_id, n in counts.items() if n > 1]


def _range(start: Any, end: Any) -> str:
    return f"{start} to {end if end is not None else 'open'}"


class _Validator:
    def __init__(self, catalog: Catalog, seen: SeenIds):
        self.catalog = catalog
        self.seen = seen
        self.problems: list[CatalogProblem] = []
        self._plan_ids_of_account: dict[str, set[str]] | None = None
        self.files = {
            stem: self._file_name(stem)
            for stem in (
                "customers",
                "accounts",
                "plan_assignments",
                "credit_grants",
                "wallet_transactions",
            )
        }

    def _file_name(self, stem: str) -> str:
        # Problems name the file the user edits: the Parquet variant when that is present.
        if (self.catalog.root / f"{stem}.parquet").is_file():
            return f"{stem}.parquet"
        return f"{stem}.csv"

    def add(self, file: str, object_id: str, problem: str | None, kind: str) -> None:
        if problem:
            self.problems.append(CatalogProblem(file, object_id, problem, kind))

    def run(self) -> list[CatalogProblem]:
        self.event_schemas()
        self.usage_meters()
        for plan in self.catalog.price_plans:
            self.price_plan(plan)
        for object_id, n in _duplicates(p.id for p in self.catalog.price_plans):
            self.add(PRICING_FILE, object_id, f"duplicate id ({n} price plans)", "price_plan")
        self.customers()
        self.accounts()
        self.plan_assignments()
        self.credit_grants()
        self.wallet_transactions()
        return self.problems

    # --- pricing.yaml ----------------------------------------------------------------

    def event_schemas(self) -> None:
        for name, n in _duplicates(s.name for s in self.catalog.event_schemas):
            self.add(PRICING_FILE, name, f"duplicate name ({n} event schemas)", "event_schema")
        for schema in self.catalog.event_schemas:
            for attribute, _ in _duplicates(a.name for a in schema.attributes):
                self.add(
                    PRICING_FILE, schema.name, f"duplicate attribute '{attribute}'", "event_schema"
                )
            for dimension, _ in _duplicates(schema.dimensions):
                self.add(
                    PRICING_FILE, schema.name, f"duplicate dimension '{dimension}'", "event_schema"
                )
            for both in sorted({a.name for a in schema.attributes} & set(schema.dimensions)):
                problem = f"'{both}' is both an attribute and a dimension"
                self.add(PRICING_FILE, schema.name, problem, "event_schema")

    def logic(
        self,
        logic: Any,
        name: str,
        allowed: set[str] | None,
        object_id: str,
        kind: str,
    ) -> None:
        """Operator problems (rule engine) and unknown variables of one JSON Logic field."""
        if logic is None:
            return
        for text in check_logic(logic):
            self.add(PRICING_FILE, object_id, f"{name}: {text}", kind)
        if allowed is None:  # the names it may read are unknown (their owner is broken)
            return
        for variable in sorted(logic_variables(logic)):
            if variable not in allowed:
                problem = f"{name}: unknown variable '{variable}'{did_you_mean(variable, allowed)}"
                self.add(PRICING_FILE, object_id, problem, kind)

    def usage_meters(self) -> None:
        meters = self.catalog.usage_meters
        for meter_id, n in _duplicates(m.id for m in meters):
            self.add(PRICING_FILE, meter_id, f"duplicate id ({n} usage meters)", "usage_meter")
        schemas = self.catalog.event_schemas_by_name
        for meter in meters:
            add = functools.partial(self.add, PRICING_FILE, meter.id, kind="usage_meter")
            schema = schemas.get(meter.event_schema)
            allowed: set[str] | None = None
            if schema is not None:
                allowed = {f"attributes.{a.name}" for a in schema.attributes}
                allowed |= {f"dimensions.{d}" for d in schema.dimensions}
            elif meter.event_schema not in self.seen.event_schemas:
                hint = did_you_mean(meter.event_schema, schemas)
                add(problem=f"unknown event_schema '{meter.event_schema}'{hint}")
            if meter.aggregation == Aggregation.COUNT and meter.value is not None:
                add(problem="value is not allowed for a COUNT meter (it counts events)")
            if meter.aggregation != Aggregation.COUNT and meter.value is None:
                add(problem=f"value is required for a {meter.aggregation} meter")
            self.logic(meter.value, "value", allowed, meter.id, "usage_meter")
            self.logic(meter.filter, "filter", allowed, meter.id, "usage_meter")
            # Meters run as SQL: what the compiler cannot express is a catalog error too.
            for name, logic, compile_sql in (
                ("value", meter.value, compile_value),
                ("value", meter.value, compile_key),
                ("filter", meter.filter, compile_filter),
            ):
                if logic is None or check_logic(logic):
                    continue
                try:
                    compile_sql(logic)
                except SqlCompileError as error:
                    add(problem=f"{name}: {error}")

    def price_plan(self, plan: PricePlan) -> None:
        add = functools.partial(self.add, PRICING_FILE, plan.id, kind="price_plan")
        if plan.currency not in MINOR_UNITS:
            hint = did_you_mean(plan.currency, MINOR_UNITS)
            add(problem=f"currency '{plan.currency}' is not a known ISO 4217 currency{hint}")
        self.billing_cycle(plan)
        for card_id, n in _duplicates(c.id for c in plan.rate_cards):
            add(problem=f"duplicate rate card id '{card_id}' ({n} rate cards)")
        commitments = [c.id for c in plan.rate_cards if isinstance(c, MinimumCommitmentRateCard)]
        if len(commitments) > 1:
            add(problem=f"more than one MINIMUM_COMMITMENT rate card: {', '.join(commitments)}")
        for card in plan.rate_cards:
            self.rate_card(plan, card)
        self.pricing_rules(plan)

    def billing_cycle(self, plan: PricePlan) -> None:
        add = functools.partial(self.add, PRICING_FILE, plan.id, kind="price_plan")
        cycle = plan.billing_cycle
        weekly = cycle.interval == BillingInterval.WEEKLY
        by_month = cycle.interval in (BillingInterval.QUARTERLY, BillingInterval.ANNUALLY)
        checks = (
            ("anchor_day", cycle.anchor_day, 31, not weekly, "MONTHLY, QUARTERLY and ANNUALLY"),
            ("anchor_month", cycle.anchor_month, 12, by_month, "QUARTERLY and ANNUALLY"),
            ("anchor_weekday", cycle.anchor_weekday, 7, weekly, "WEEKLY"),
        )
        for name, value, highest, applies, intervals in checks:
            if value is None:
                continue
            if not applies:
                add(
                    problem=f"billing_cycle.{name} applies only to {intervals} cycles, not {cycle.interval}"
                )
            elif not 1 <= value <= highest:
                add(problem=f"billing_cycle.{name} {value} is out of range 1-{highest}")
        if cycle.grace_period_days < 0:
            add(problem=f"billing_cycle.grace_period_days {cycle.grace_period_days} is negative")

    def rate_card(self, plan: PricePlan, card: Any) -> None:
        add = functools.partial(self.add, PRICING_FILE, f"{plan.id}.{card.id}", kind="rate_card")
        if isinstance(card, FixedFeeRateCard | MinimumCommitmentRateCard):
            add(problem=decimal_problem(card.amount, "amount"))
            if card.amount < 0:
                add(problem=f"amount {card.amount} is negative")
            return
        assert isinstance(card, UsageRateCard)
        meters = self.catalog.usage_meters_by_id
        if card.meter not in meters and card.meter not in self.seen.usage_meters:
            add(problem=f"unknown meter '{card.meter}'{did_you_mean(card.meter, meters)}")
        for index, slab in enumerate(card.slabs):
            where = f"slabs[{index}]"
            for name in ("start_after", "rate", "flat_fee", "package_size"):
                add(problem=decimal_problem(getattr(slab, name), f"{where}.{name}"))
            if slab.start_after < 0:
                add(problem=f"{where}.start_after {slab.start_after} is negative")
            if slab.rate < 0:
                add(problem=f"{where}.rate {slab.rate} is negative")
            if slab.flat_fee is not None and slab.flat_fee < 0:
                add(problem=f"{where}.flat_fee {slab.flat_fee} is negative")
            if slab.package_size is not None and slab.package_size <= 0:
                add(problem=f"{where}.package_size {slab.package_size} must be greater than 0")
            if index and slab.start_after <= card.slabs[index - 1].start_after:
                add(
                    problem=f"slabs are not strictly increasing: {where}.start_after "
                    f"{slab.start_after} follows {card.slabs[index - 1].start_after}"
                )
        for name in ("minimum", "maximum"):
            value = getattr(card, name)
            add(problem=decimal_problem(value, name))
            if value is not None and value < 0:
                add(problem=f"{name} {value} is negative")
        if card.minimum is not None and card.maximum is not None and card.minimum > card.maximum:
            add(problem=f"minimum {card.minimum} is greater than maximum {card.maximum}")

    def pricing_rules(self, plan: PricePlan) -> None:
        cards = {c.id: c for c in plan.rate_cards}
        broken_cards = self.seen.rate_cards.get(plan.id, set()) - set(cards)
        rated = [c.id for c in plan.rate_cards if isinstance(c, UsageRateCard | FixedFeeRateCard)]
        allowed = {f"{what}.{card}" for card in rated for what in ("usage", "revenue")}
        allowed |= set(RULE_VARIABLES)
        targets = {f"revenue.{card}" for card in rated}
        targets |= {f"usage.{c.id}" for c in plan.rate_cards if isinstance(c, UsageRateCard)}

        def defined(name: str, names: set[str]) -> bool:
            # A name that points at a rate card which failed to parse is not reported twice.
            return name in names or name.partition(".")[2] in broken_cards

        for rule_id, n in _duplicates(r.id for r in plan.pricing_rules):
            self.add(
                PRICING_FILE,
                plan.id,
                f"duplicate pricing rule id '{rule_id}' ({n} rules)",
                "price_plan",
            )
        for order, _ in _duplicates(str(r.order) for r in plan.pricing_rules):
            ids = ", ".join(r.id for r in plan.pricing_rules if str(r.order) == order)
            self.add(
                PRICING_FILE, plan.id, f"pricing rules {ids} share order {order}", "price_plan"
            )
        for rule in plan.pricing_rules:
            object_id = f"{plan.id}.{rule.id}"
            add = functools.partial(self.add, PRICING_FILE, object_id, kind="pricing_rule")
            for name, logic in (("condition", rule.condition), ("computation", rule.computation)):
                self.logic(logic, name, None, object_id, "pricing_rule")
                if logic is None:
                    continue
                for variable in sorted(logic_variables(logic)):
                    if not defined(variable, allowed):
                        hint = did_you_mean(variable, allowed)
                        add(problem=f"{name}: unknown variable '{variable}'{hint}")
            if rule.computation is None:
                add(problem="computation is required")
            if isinstance(rule.action, UpdateAction) and not defined(rule.action.target, targets):
                target = rule.action.target
                what, _, card_id = target.partition(".")
                card = cards.get(card_id)
                if what == "usage" and isinstance(card, FixedFeeRateCard):
                    problem = f"action.target '{target}': a FIXED_FEE card's usage cannot be updated (update revenue.{card_id})"
                elif what in ("usage", "revenue") and isinstance(card, MinimumCommitmentRateCard):
                    problem = (
                        f"action.target '{target}': a MINIMUM_COMMITMENT card cannot be updated"
                    )
                else:
                    hint = did_you_mean(target, targets)
                    problem = (
                        f"action.target '{target}' is not revenue.<rate card> or usage.<rate card> "
                        f"of plan '{plan.id}'{hint}"
                    )
                add(problem=problem)

    # --- tables ----------------------------------------------------------------------

    def _duplicate_rows(self, stem: str, ids: Iterable[str], kind: str) -> None:
        for object_id, n in _duplicates(ids):
            self.add(self.files[stem], object_id, f"duplicate id ({n} rows)", kind)

    def _account(self, stem: str, object_id: str, account_id: str, kind: str) -> Any:
        """The referenced account, reporting it when unknown."""
        accounts = self.catalog.accounts_by_id
        account = accounts.get(account_id)
        if account is None and account_id not in self.seen.accounts:
            hint = did_you_mean(account_id, accounts)
            self.add(self.files[stem], object_id, f"unknown account '{account_id}'{hint}", kind)
        return account

    def _currency(self, stem: str, object_id: str, currency: str, account: Any, kind: str) -> None:
        if currency not in MINOR_UNITS:
            hint = did_you_mean(currency, MINOR_UNITS)
            problem = f"currency '{currency}' is not a known ISO 4217 currency{hint}"
            self.add(self.files[stem], object_id, problem, kind)
        elif account is not None and account.currency != currency:
            problem = (
                f"currency {currency} does not match account '{account.account_id}' "
                f"({account.currency})"
            )
            self.add(self.files[stem], object_id, problem, kind)

    def customers(self) -> None:
        self._duplicate_rows(
            "customers", (c.customer_id for c in self.catalog.customers), "customer"
        )

    def accounts(self) -> None:
        file = self.files["accounts"]
        accounts = self.catalog.accounts
        self._duplicate_rows("accounts", (a.account_id for a in accounts), "account")
        customers = self.catalog.customers_by_id
        owner_of_alias: dict[str, str] = {}
        account_ids = {a.account_id for a in accounts} | self.seen.accounts
        for account in accounts:
            add = functools.partial(self.add, file, account.account_id, kind="account")
            if (
                account.customer_id not in customers
                and account.customer_id not in self.seen.customers
            ):
                hint = did_you_mean(account.customer_id, customers)
                add(problem=f"unknown customer '{account.customer_id}'{hint}")
            if account.currency not in MINOR_UNITS:
                hint = did_you_mean(account.currency, MINOR_UNITS)
                add(problem=f"currency '{account.currency}' is not a known ISO 4217 currency{hint}")
            add(problem=timezone_problem(account.timezone))
            for alias in account.aliases:
                # An event's accountId must resolve to exactly one account (SEMANTICS 3).
                if alias == account.account_id:
                    add(problem=f"alias '{alias}' is the account's own id")
                elif alias in account_ids:
                    add(problem=f"alias '{alias}' is the id of another account")
                elif alias in owner_of_alias:
                    owner = owner_of_alias[alias]
                    where = (
                        "listed twice"
                        if owner == account.account_id
                        else f"also an alias of account '{owner}'"
                    )
                    add(problem=f"alias '{alias}' is {where}")
                else:
                    owner_of_alias[alias] = account.account_id

    def plan_assignments(self) -> None:
        file = self.files["plan_assignments"]
        assignments = self.catalog.plan_assignments
        self._duplicate_rows(
            "plan_assignments", (a.assignment_id for a in assignments), "plan_assignment"
        )
        plans = self.catalog.price_plans_by_id
        well_dated = []
        for assignment in assignments:
            add = functools.partial(
                self.add, file, assignment.assignment_id, kind="plan_assignment"
            )
            account = self._account(
                "plan_assignments",
                assignment.assignment_id,
                assignment.account_id,
                "plan_assignment",
            )
            plan = plans.get(assignment.plan_id)
            if plan is None and assignment.plan_id not in self.seen.price_plans:
                add(
                    problem=f"unknown plan '{assignment.plan_id}'{did_you_mean(assignment.plan_id, plans)}"
                )
            if account is not None and plan is not None and account.currency != plan.currency:
                add(
                    problem=f"account '{account.account_id}' is billed in {account.currency} "
                    f"but plan '{plan.id}' is priced in {plan.currency}"
                )
            until = assignment.effective_until
            if until is not None and until < assignment.effective_from:
                add(
                    problem=f"effective_until {until} is before effective_from {assignment.effective_from}"
                )
            else:
                well_dated.append(assignment)
        # effective_until is the last day covered (inclusive): A until X-1, B from X is the
        # plan change that does not overlap. Only pairs within one account can overlap, so
        # each assignment is compared with the earlier ones of its account (file order kept).
        earlier_of_account: dict[str, list] = {}
        for later in well_dated:
            earlier_ones = earlier_of_account.setdefault(later.account_id, [])
            for earlier in earlier_ones:
                if (
                    earlier.effective_until is None
                    or later.effective_from <= earlier.effective_until
                ) and (
                    later.effective_until is None or earlier.effective_from <= later.effective_until
                ):
                    self.add(
                        file,
                        later.assignment_id,
                        f"overlaps plan_assignment '{earlier.assignment_id}' "
                        f"({_range(earlier.effective_from, earlier.effective_until)}) "
                        f"of account '{later.account_id}'",
                        "plan_assignment",
                    )
            earlier_ones.append(later)

    def _rate_cards_of_account(
        self, account_id: str
    ) -> tuple[set[str], set[str], list[str]] | None:
        """(usage and fixed-fee card ids, commitment card ids, plan ids) over every plan the
        account is ever assigned to; None when one of those plans is unknown or broken."""
        plans = self.catalog.price_plans_by_id
        if self._plan_ids_of_account is None:  # built once, not one scan per grant
            self._plan_ids_of_account = {}
            for a in self.catalog.plan_assignments:
                self._plan_ids_of_account.setdefault(a.account_id, set()).add(a.plan_id)
        plan_ids = sorted(self._plan_ids_of_account.get(account_id, ()))
        if any(plan_id not in plans for plan_id in plan_ids):
            return None
        rated: set[str] = set()
        commitments: set[str] = set()
        for plan_id in plan_ids:
            plan = plans[plan_id]
            if self.seen.rate_cards.get(plan_id, set()) - {c.id for c in plan.rate_cards}:
                return None
            for card in plan.rate_cards:
                (commitments if isinstance(card, MinimumCommitmentRateCard) else rated).add(card.id)
        return rated, commitments, plan_ids

    def credit_grants(self) -> None:
        file = self.files["credit_grants"]
        grants = self.catalog.credit_grants
        self._duplicate_rows("credit_grants", (g.credit_id for g in grants), "credit_grant")
        for grant in grants:
            add = functools.partial(self.add, file, grant.credit_id, kind="credit_grant")
            account = self._account(
                "credit_grants", grant.credit_id, grant.account_id, "credit_grant"
            )
            self._currency(
                "credit_grants", grant.credit_id, grant.currency, account, "credit_grant"
            )
            add(problem=decimal_problem(grant.amount, "amount"))
            if grant.amount <= 0:
                add(problem=f"amount {grant.amount} must be greater than 0")
            until = grant.effective_until
            if until is not None and until < grant.effective_from:
                add(
                    problem=f"effective_until {until} is before effective_from {grant.effective_from}"
                )
            cards = self._rate_cards_of_account(grant.account_id) if account is not None else None
            if cards is None:
                continue
            rated, commitments, plan_ids = cards
            for card_id in grant.applies_to:
                if card_id in rated:
                    continue
                if card_id in commitments:
                    add(
                        problem=f"applies_to '{card_id}' is a MINIMUM_COMMITMENT card; credits never cover the true-up"
                    )
                elif not plan_ids:
                    add(
                        problem=f"applies_to '{card_id}': account '{grant.account_id}' has no plan assignments"
                    )
                else:
                    names = ", ".join(f"'{p}'" for p in plan_ids)
                    add(
                        problem=f"applies_to '{card_id}' is not a usage or fixed-fee rate card of "
                        f"the account's plans ({names}){did_you_mean(card_id, rated)}"
                    )

    def wallet_transactions(self) -> None:
        file = self.files["wallet_transactions"]
        transactions = self.catalog.wallet_transactions
        self._duplicate_rows(
            "wallet_transactions", (t.transaction_id for t in transactions), "wallet_transaction"
        )
        for transaction in transactions:
            object_id = transaction.transaction_id
            add = functools.partial(self.add, file, object_id, kind="wallet_transaction")
            account = self._account(
                "wallet_transactions", object_id, transaction.account_id, "wallet_transaction"
            )
            self._currency(
                "wallet_transactions",
                object_id,
                transaction.currency,
                account,
                "wallet_transaction",
            )
            add(problem=decimal_problem(transaction.amount, "amount"))
            if transaction.type == WalletTransactionType.TOPUP and transaction.amount <= 0:
                add(
                    problem=f"TOPUP amount {transaction.amount} must be greater than 0 (use ADJUSTMENT to take money out)"
                )


def validate_catalog(catalog: Catalog, seen: SeenIds | None = None) -> list[CatalogProblem]:
    """Every cross-object problem of a parsed catalog (empty when it is consistent)."""
    return _Validator(catalog, seen or SeenIds.of(catalog)).run()

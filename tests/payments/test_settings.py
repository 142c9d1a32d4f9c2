"""Reading the drill's faults and the payment-method map; the idempotency key and amounts."""

from decimal import Decimal

import pytest

from dagster_project.lib.payments import (
    Fault,
    FaultInjector,
    FaultSpecError,
    idempotency_key,
    minor_amount,
    parse_faults,
    parse_payment_methods,
)
from dagster_project.lib.payments.faults import InjectedError


def test_faults_read_as_written():
    assert parse_faults(
        "create_payment_intent:error:2, confirm_payment_intent:lost_response:1,"
        "record_payment:crash:1"
    ) == (
        Fault("create_payment_intent", "error", 2),
        Fault("confirm_payment_intent", "lost_response", 1),
        Fault("record_payment", "crash", 1),
    )
    assert parse_faults("") == ()
    assert parse_faults(None) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("create_intent:error:1", "unknown action 'create_intent'"),
        ("record_payment:explode:1", "unknown fault 'explode'"),
        ("record_payment:crash:0", "times must be a positive integer"),
        ("record_payment:crash", "is not 'action:kind:times'"),
    ],
)
def test_bad_faults_name_the_entry(text, message):
    with pytest.raises(FaultSpecError, match="TALLYHOUSE_PAYMENT_FAULTS") as error:
        parse_faults(text)
    assert message in str(error.value) and repr(text) in str(error.value)


def test_faults_count_per_run_and_action():
    exits = []
    injector = FaultInjector(
        parse_faults("ensure_customer:error:2,record_payment:crash:1"), exits.append
    )
    for run in ("wr_a", "wr_b"):
        for _ in range(2):
            with pytest.raises(InjectedError):
                injector.before_call(run, "ensure_customer")
        injector.before_call(run, "ensure_customer")  # the third try goes through
        injector.before_call(run, "create_payment_intent")
    injector.after_logged("create_payment_intent")
    injector.after_logged("record_payment")
    injector.after_logged("record_payment")
    assert exits == [70]


def test_payment_methods():
    assert parse_payment_methods("cus_a=pm_card_chargeCustomerFail, cus_b=pm_card_visa") == {
        "cus_a": "pm_card_chargeCustomerFail",
        "cus_b": "pm_card_visa",
    }
    with pytest.raises(ValueError, match="TALLYHOUSE_PAYMENT_METHODS: 'cus_a' is not"):
        parse_payment_methods("cus_a")


def test_idempotency_key_is_tied_to_the_payload():
    key = idempotency_key("inv_1", Decimal("12.5"), "USD")
    assert key == idempotency_key("inv_1", Decimal("12.500000000000"), "USD")
    assert key != idempotency_key("inv_1", Decimal("12.51"), "USD")
    assert key != idempotency_key("inv_1", Decimal("12.5"), "EUR")
    assert key != idempotency_key("inv_2", Decimal("12.5"), "USD")


def test_minor_amounts():
    assert minor_amount(Decimal("120.50"), "USD") == 12050
    assert minor_amount(Decimal("1976"), "JPY") == 1976
    assert minor_amount(Decimal("11.005000000000"), "KWD") == 11005
    with pytest.raises(ValueError, match="not a whole number of minor units"):
        minor_amount(Decimal("0.005"), "USD")

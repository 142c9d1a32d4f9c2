"""Each kind of catalog error is reported naming the file, the object id and the problem."""

from __future__ import annotations

import pytest

from dagster_project.lib.catalog import CatalogError, CatalogProblem, check_catalog, load_catalog

from .conftest import append, edit, messages

Y = "pricing.yaml"

# (file, old text, new text, the expected problem line). Each case breaks one thing in a copy
# of the demo catalog.
CASES = {
    # --- pricing.yaml: event schemas and meters --------------------------------------
    "duplicate_meter_id": (
        Y,
        "- id: opus_output_tokens",
        "- id: opus_input_tokens",
        "pricing.yaml: usage_meter 'opus_input_tokens': duplicate id (2 usage meters)",
    ),
    "duplicate_event_schema": (
        Y,
        "- name: api_request\n",
        "- name: llm_call\n",
        "pricing.yaml: event_schema 'llm_call': duplicate name (2 event schemas)",
    ),
    "duplicate_attribute": (
        Y,
        "{name: output_tokens, unit: tokens}",
        "{name: input_tokens, unit: tokens}",
        "pricing.yaml: event_schema 'llm_call': duplicate attribute 'input_tokens'",
    ),
    "unknown_event_schema": (
        Y,
        "event_schema: llm_call\n    aggregation: COUNT",
        "event_schema: llm_cal\n    aggregation: COUNT",
        "pricing.yaml: usage_meter 'llm_calls': unknown event_schema 'llm_cal' (did you mean 'llm_call'?)",
    ),
    "unknown_field": (
        Y,
        "aggregation: COUNT",
        "agregation: COUNT",
        "pricing.yaml: usage_meter 'llm_calls': unknown field 'agregation' (did you mean 'aggregation'?)",
    ),
    "missing_field": (
        Y,
        "    name: LLM calls (all models)\n",
        "",
        "pricing.yaml: usage_meter 'llm_calls': missing required field 'name'",
    ),
    "unknown_aggregation": (
        Y,
        "aggregation: COUNT",
        "aggregation: CNT",
        "pricing.yaml: usage_meter 'llm_calls': aggregation: 'CNT' is not one of COUNT, SUM, MAX, "
        "UNIQUE_COUNT, LATEST (did you mean 'COUNT'?)",
    ),
    "count_meter_with_value": (
        Y,
        "aggregation: COUNT\n",
        'aggregation: COUNT\n    value: {"var": "attributes.input_tokens"}\n',
        "pricing.yaml: usage_meter 'llm_calls': value is not allowed for a COUNT meter (it counts events)",
    ),
    "sum_meter_without_value": (
        Y,
        '    value: {"var": "attributes.input_tokens"}\n',
        "",
        "pricing.yaml: usage_meter 'opus_input_tokens': value is required for a SUM meter",
    ),
    "unsupported_operator_in_filter": (
        Y,
        '{"==": [{"var": "dimensions.model"}, "opus"]}',
        '{"regex": [{"var": "dimensions.model"}, "opus"]}',
        "pricing.yaml: usage_meter 'opus_input_tokens': filter: unsupported JSON Logic operator 'regex'",
    ),
    "operator_arity": (
        Y,
        '{"!=": [{"var": "dimensions.endpoint"}, "/v1/health"]}',
        '{"!=": [{"var": "dimensions.endpoint"}]}',
        "pricing.yaml: usage_meter 'api_requests': filter: '!=' takes 2 arguments, got 1",
    ),
    "undeclared_meter_variable": (
        Y,
        '{"var": "attributes.input_tokens"}',
        '{"var": "attributes.input_token"}',
        "pricing.yaml: usage_meter 'opus_input_tokens': value: unknown variable "
        "'attributes.input_token' (did you mean 'attributes.input_tokens'?)",
    ),
    "meter_variable_of_another_schema": (
        Y,
        '{"var": "dimensions.user_id"}',
        '{"var": "dimensions.model"}',
        "pricing.yaml: usage_meter 'api_active_users': value: unknown variable 'dimensions.model'",
    ),
    # --- pricing.yaml: plans and rate cards ------------------------------------------
    "unknown_meter": (
        Y,
        "meter: opus_input_tokens",
        "meter: opus_input_tokenz",
        "pricing.yaml: rate_card 'starter.opus_input': unknown meter 'opus_input_tokenz' "
        "(did you mean 'opus_input_tokens'?)",
    ),
    "duplicate_plan_id": (
        Y,
        "- id: payg_weekly",
        "- id: starter",
        "pricing.yaml: price_plan 'starter': duplicate id (2 price plans)",
    ),
    "duplicate_rate_card_id": (
        Y,
        "- id: opus_output\n",
        "- id: opus_input\n",
        "pricing.yaml: price_plan 'starter': duplicate rate card id 'opus_input' (2 rate cards)",
    ),
    "unknown_rate_card_type": (
        Y,
        'type: FIXED_FEE, amount: "29.00"',
        'type: FIXED_FE, amount: "29.00"',
        "pricing.yaml: rate_card 'starter.platform_fee': type: 'FIXED_FE' is not one of USAGE, "
        "FIXED_FEE, MINIMUM_COMMITMENT (did you mean 'FIXED_FEE'?)",
    ),
    "slabs_not_increasing": (
        Y,
        '{start_after: "1000000", rate: "0.000012"}',
        '{start_after: "0", rate: "0.000012"}',
        "pricing.yaml: rate_card 'starter.opus_input': slabs are not strictly increasing: "
        "slabs[1].start_after 0 follows 0",
    ),
    "negative_rate": (
        Y,
        'rate: "0.000075"}',
        'rate: "-0.000075"}',
        "pricing.yaml: rate_card 'starter.opus_output': slabs[0].rate -0.000075 is negative",
    ),
    "package_size_zero": (
        Y,
        'package_size: "1000000"',
        'package_size: "0"',
        "pricing.yaml: rate_card 'growth.opus_input': slabs[2].package_size 0 must be greater than 0",
    ),
    "minimum_above_maximum": (
        Y,
        'maximum: "2000.00"',
        'minimum: "3000.00"\n        maximum: "2000.00"',
        "pricing.yaml: rate_card 'growth.sonnet_tokens': minimum 3000.00 is greater than maximum 2000.00",
    ),
    "bad_decimal": (
        Y,
        'amount: "99.00"',
        'amount: "99,00"',
        "pricing.yaml: rate_card 'growth.platform_fee': amount: input should be a valid decimal (got '99,00')",
    ),
    "two_minimum_commitments": (
        Y,
        '{id: commitment, type: MINIMUM_COMMITMENT, amount: "500.00"}',
        '{id: commitment, type: MINIMUM_COMMITMENT, amount: "500.00"}\n'
        '      {id: commitment2, type: MINIMUM_COMMITMENT, amount: "1.00"}'.replace(
            "      {", "      - {"
        ),
        "pricing.yaml: price_plan 'growth': more than one MINIMUM_COMMITMENT rate card: commitment, commitment2",
    ),
    "unknown_currency": (
        Y,
        "currency: EUR",
        "currency: EUX",
        "pricing.yaml: price_plan 'eu_business': currency 'EUX' is not a known ISO 4217 currency "
        "(did you mean 'EUR'?)",
    ),
    "currency_not_three_letters": (
        Y,
        "currency: EUR",
        "currency: euro",
        "pricing.yaml: price_plan 'eu_business': currency: 'euro' is not a 3-letter ISO 4217 currency code",
    ),
    "anchor_day_out_of_range": (
        Y,
        "{interval: MONTHLY, anchor_day: 1,",
        "{interval: MONTHLY, anchor_day: 32,",
        "pricing.yaml: price_plan 'starter': billing_cycle.anchor_day 32 is out of range 1-31",
    ),
    "anchor_weekday_out_of_range": (
        Y,
        "anchor_weekday: 1",
        "anchor_weekday: 8",
        "pricing.yaml: price_plan 'payg_weekly': billing_cycle.anchor_weekday 8 is out of range 1-7",
    ),
    "anchor_month_out_of_range": (
        Y,
        "anchor_month: 2",
        "anchor_month: 13",
        "pricing.yaml: price_plan 'jp_enterprise': billing_cycle.anchor_month 13 is out of range 1-12",
    ),
    "anchor_for_another_interval": (
        Y,
        "{interval: MONTHLY, anchor_day: 1,",
        "{interval: MONTHLY, anchor_weekday: 1,",
        "pricing.yaml: price_plan 'starter': billing_cycle.anchor_weekday applies only to WEEKLY "
        "cycles, not MONTHLY",
    ),
    "negative_grace": (
        Y,
        "grace_period_days: 5",
        "grace_period_days: -1",
        "pricing.yaml: price_plan 'eu_business': billing_cycle.grace_period_days -1 is negative",
    ),
    "unknown_interval": (
        Y,
        "interval: WEEKLY",
        "interval: WEEK",
        "pricing.yaml: price_plan 'payg_weekly': billing_cycle.interval: 'WEEK' is not one of WEEKLY, "
        "MONTHLY, QUARTERLY, ANNUALLY (did you mean 'WEEKLY'?)",
    ),
    # --- pricing.yaml: pricing rules ---------------------------------------------------
    "unknown_rule_variable": (
        Y,
        '{">": [{"var": "revenue.opus_input"}, 1000]}',
        '{">": [{"var": "revenue.opus_inptu"}, 1000]}',
        "pricing.yaml: pricing_rule 'growth.volume_discount': condition: unknown variable "
        "'revenue.opus_inptu' (did you mean 'revenue.opus_input'?)",
    ),
    "rule_variable_of_commitment_card": (
        Y,
        '{"*": [{"var": "subtotal"}, "0.05"]}',
        '{"*": [{"var": "revenue.commitment"}, "0.05"]}',
        "pricing.yaml: pricing_rule 'growth.premium_support': computation: unknown variable "
        "'revenue.commitment'",
    ),
    "unsupported_operator_in_rule": (
        Y,
        '{"*": [{"var": "revenue.opus_input"}, "0.9"]}',
        '{"times": [{"var": "revenue.opus_input"}, "0.9"]}',
        "pricing.yaml: pricing_rule 'growth.volume_discount': computation: unsupported JSON Logic "
        "operator 'times'",
    ),
    "unknown_update_target": (
        Y,
        "target: revenue.opus_input}",
        "target: revenue.opus_inpt}",
        "pricing.yaml: pricing_rule 'growth.volume_discount': action.target 'revenue.opus_inpt' is "
        "not revenue.<rate card> or usage.<rate card> of plan 'growth' (did you mean "
        "'revenue.opus_input'?)",
    ),
    "update_usage_of_fixed_fee": (
        Y,
        "target: revenue.platform_fee}",
        "target: usage.platform_fee}",
        "pricing.yaml: pricing_rule 'eu_business.platform_fee_waiver': action.target "
        "'usage.platform_fee': a FIXED_FEE card's usage cannot be updated (update revenue.platform_fee)",
    ),
    "unknown_action_type": (
        Y,
        "{type: ADD, code: premium_support",
        "{type: APPEND, code: premium_support",
        "pricing.yaml: pricing_rule 'growth.premium_support': action.type: 'APPEND' is not one of "
        "UPDATE, ADD",
    ),
    "add_without_description": (
        Y,
        ", description: Enterprise SLA (99.95%)}",
        "}",
        "pricing.yaml: pricing_rule 'jp_enterprise.enterprise_sla': missing required field "
        "'action.description'",
    ),
    "duplicate_rule_order": (
        Y,
        "order: 2",
        "order: 1",
        "pricing.yaml: price_plan 'growth': pricing rules volume_discount, free_api_allowance share order 1",
    ),
    "duplicate_rule_id": (
        Y,
        "- id: free_api_allowance",
        "- id: volume_discount",
        "pricing.yaml: price_plan 'growth': duplicate pricing rule id 'volume_discount' (2 rules)",
    ),
    "yaml_duplicate_key": (
        Y,
        "    name: Starter\n",
        "    name: Starter\n    name: Starter again\n",
        "pricing.yaml: line 68: duplicate key 'name'",
    ),
    "unknown_section": (
        Y,
        "price_plans:\n",
        "price_plan:\n",
        "pricing.yaml: unknown section 'price_plan' (did you mean 'price_plans'?)",
    ),
    "yaml_syntax_error": (
        Y,
        "event_schemas:\n",
        "event_schemas: [\n",
        "pricing.yaml: cannot be parsed:",
    ),
    # --- customers.csv and accounts.csv ---------------------------------------------------
    "duplicate_customer": (
        "customers.csv",
        "cus_hooli,",
        "cus_acme,",
        "customers.csv: customer 'cus_acme': duplicate id (2 rows)",
    ),
    "unknown_column": (
        "customers.csv",
        "name,email",
        "name,emial",
        "customers.csv: unknown column 'emial' (did you mean 'email'?)",
    ),
    "missing_column": (
        "accounts.csv",
        "account_id,customer_id,name,currency",
        "account_id,customer_id,name,curency",
        "accounts.csv: missing column 'currency'",
    ),
    "wrong_field_count": (
        "customers.csv",
        "cus_hooli,Hooli,finance@hooli.example",
        "cus_hooli,Hooli,finance@hooli.example,extra",
        "customers.csv: line 6: has 4 fields, the header has 3",
    ),
    "duplicate_account": (
        "accounts.csv",
        "acc_hooli_dev,",
        "acc_hooli_prod,",
        "accounts.csv: account 'acc_hooli_prod': duplicate id (2 rows)",
    ),
    "unknown_customer": (
        "accounts.csv",
        "acc_stark,cus_stark,",
        "acc_stark,cus_strak,",
        "accounts.csv: account 'acc_stark': unknown customer 'cus_strak' (did you mean 'cus_stark'?)",
    ),
    "invalid_timezone": (
        "accounts.csv",
        "Europe/Berlin,globex",
        "Europe/Berlyn,globex",
        "accounts.csv: account 'acc_globex_eu': timezone 'Europe/Berlyn' is not an IANA timezone "
        "(did you mean 'Europe/Berlin'?)",
    ),
    "account_currency_unknown": (
        "accounts.csv",
        "Stark Analytics,USD",
        "Stark Analytics,USF",
        "accounts.csv: account 'acc_stark': currency 'USF' is not a known ISO 4217 currency",
    ),
    "alias_of_two_accounts": (
        "accounts.csv",
        "America/New_York,acme-staging",
        "America/New_York,acme-prod",
        "accounts.csv: account 'acc_acme_staging': alias 'acme-prod' is also an alias of account "
        "'acc_acme_prod'",
    ),
    "alias_is_another_account_id": (
        "accounts.csv",
        "America/New_York,acme-staging",
        "America/New_York,acc_initech",
        "accounts.csv: account 'acc_acme_staging': alias 'acc_initech' is the id of another account",
    ),
    "alias_listed_twice": (
        "accounts.csv",
        "America/New_York,acme-staging",
        "America/New_York,acme-staging;acme-staging",
        "accounts.csv: account 'acc_acme_staging': alias 'acme-staging' is listed twice",
    ),
    # --- plan_assignments.csv ----------------------------------------------------------
    "duplicate_assignment": (
        "plan_assignments.csv",
        "asg_hooli_dev,",
        "asg_hooli_prod,",
        "plan_assignments.csv: plan_assignment 'asg_hooli_prod': duplicate id (2 rows)",
    ),
    "assignment_unknown_account": (
        "plan_assignments.csv",
        "asg_stark,acc_stark,",
        "asg_stark,acc_strak,",
        "plan_assignments.csv: plan_assignment 'asg_stark': unknown account 'acc_strak' "
        "(did you mean 'acc_stark'?)",
    ),
    "assignment_unknown_plan": (
        "plan_assignments.csv",
        "asg_stark,acc_stark,starter,",
        "asg_stark,acc_stark,starterr,",
        "plan_assignments.csv: plan_assignment 'asg_stark': unknown plan 'starterr' (did you mean 'starter'?)",
    ),
    "assignment_until_before_from": (
        "plan_assignments.csv",
        "2026-10-01,2026-10-31",
        "2026-10-01,2026-09-30",
        "plan_assignments.csv: plan_assignment 'asg_stark_trial': effective_until 2026-09-30 is "
        "before effective_from 2026-10-01",
    ),
    "overlapping_assignments": (
        "plan_assignments.csv",
        "starter,2026-10-01,2026-11-14",
        "starter,2026-10-01,2026-11-15",
        "plan_assignments.csv: plan_assignment 'asg_initech_growth': overlaps plan_assignment "
        "'asg_initech_starter' (2026-10-01 to 2026-11-15) of account 'acc_initech'",
    ),
    "assignment_currency_mismatch": (
        "plan_assignments.csv",
        "acc_globex_research,eu_business",
        "acc_globex_research,growth",
        "plan_assignments.csv: plan_assignment 'asg_globex_research': account 'acc_globex_research' "
        "is billed in EUR but plan 'growth' is priced in USD",
    ),
    "invalid_date": (
        "plan_assignments.csv",
        "growth,2026-11-15,",
        "growth,2026-11-31,",
        "plan_assignments.csv: plan_assignment 'asg_initech_growth': effective_from: input should "
        "be a valid date",
    ),
    # --- credit_grants.csv -------------------------------------------------------------
    "duplicate_credit": (
        "credit_grants.csv",
        "cr_acme_goodwill,",
        "cr_acme_promo,",
        "credit_grants.csv: credit_grant 'cr_acme_promo': duplicate id (2 rows)",
    ),
    "credit_unknown_account": (
        "credit_grants.csv",
        "cr_hooli_support,acc_hooli_prod,",
        "cr_hooli_support,acc_hooli_prd,",
        "credit_grants.csv: credit_grant 'cr_hooli_support': unknown account 'acc_hooli_prd' "
        "(did you mean 'acc_hooli_prod'?)",
    ),
    "credit_currency_mismatch": (
        "credit_grants.csv",
        "75.00,EUR",
        "75.00,USD",
        "credit_grants.csv: credit_grant 'cr_globex_fee': currency USD does not match account "
        "'acc_globex_eu' (EUR)",
    ),
    "credit_applies_to_unknown_card": (
        "credit_grants.csv",
        "opus_input;opus_output",
        "opus_input;opus_ouput",
        "credit_grants.csv: credit_grant 'cr_acme_promo': applies_to 'opus_ouput' is not a usage or "
        "fixed-fee rate card of the account's plans ('growth') (did you mean 'opus_output'?)",
    ),
    "credit_applies_to_card_of_other_plan": (
        "credit_grants.csv",
        "2027-01-31,platform_fee",
        "2027-01-31,active_users",
        "credit_grants.csv: credit_grant 'cr_globex_fee': applies_to 'active_users' is not a usage or "
        "fixed-fee rate card of the account's plans ('eu_business')",
    ),
    "credit_applies_to_commitment": (
        "credit_grants.csv",
        "2026-11-30,support_fee",
        "2026-11-30,commitment",
        "credit_grants.csv: credit_grant 'cr_hooli_support': applies_to 'commitment' is a "
        "MINIMUM_COMMITMENT card; credits never cover the true-up",
    ),
    "credit_not_positive": (
        "credit_grants.csv",
        "50.00,USD",
        "-50.00,USD",
        "credit_grants.csv: credit_grant 'cr_acme_goodwill': amount -50.00 must be greater than 0",
    ),
    "credit_until_before_from": (
        "credit_grants.csv",
        "2026-11-01,2026-11-30",
        "2026-11-01,2026-10-30",
        "credit_grants.csv: credit_grant 'cr_hooli_support': effective_until 2026-10-30 is before "
        "effective_from 2026-11-01",
    ),
    "credit_priority_not_integer": (
        "credit_grants.csv",
        "USD,3,",
        "USD,high,",
        "credit_grants.csv: credit_grant 'cr_hooli_startup': priority: input should be a valid integer",
    ),
    # --- wallet_transactions.csv -------------------------------------------------------
    "duplicate_wallet_transaction": (
        "wallet_transactions.csv",
        "wt_0006,",
        "wt_0001,",
        "wallet_transactions.csv: wallet_transaction 'wt_0001': duplicate id (2 rows)",
    ),
    "wallet_unknown_account": (
        "wallet_transactions.csv",
        "wt_0006,acc_stark,",
        "wt_0006,acc_stork,",
        "wallet_transactions.csv: wallet_transaction 'wt_0006': unknown account 'acc_stork' "
        "(did you mean 'acc_stark'?)",
    ),
    "wallet_currency_mismatch": (
        "wallet_transactions.csv",
        "500.00,EUR",
        "500.00,USD",
        "wallet_transactions.csv: wallet_transaction 'wt_0003': currency USD does not match "
        "account 'acc_globex_eu' (EUR)",
    ),
    "topup_not_positive": (
        "wallet_transactions.csv",
        "TOPUP,250.00",
        "TOPUP,-250.00",
        "wallet_transactions.csv: wallet_transaction 'wt_0002': TOPUP amount -250.00 must be greater "
        "than 0 (use ADJUSTMENT to take money out)",
    ),
    "unknown_wallet_type": (
        "wallet_transactions.csv",
        "TOPUP,250.00",
        "TOP_UP,250.00",
        "wallet_transactions.csv: wallet_transaction 'wt_0002': type: 'TOP_UP' is not one of TOPUP, "
        "ADJUSTMENT (did you mean 'TOPUP'?)",
    ),
    "bad_timestamp": (
        "wallet_transactions.csv",
        "2026-11-10T10:00:00Z",
        "2026-11-10 25:00",
        "wallet_transactions.csv: wallet_transaction 'wt_0006': occurred_at: input should be a valid datetime",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_names_file_object_and_problem(catalog_dir, case):
    file, old, new, expected = CASES[case]
    edit(catalog_dir, file, old, new)
    found = messages(catalog_dir)
    assert any(line.startswith(expected) for line in found), "\n".join(found)
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_dir)
    assert any(line.startswith(expected) for line in str(raised.value).splitlines())


def test_problem_carries_file_object_and_kind(catalog_dir):
    edit(
        catalog_dir,
        Y,
        "event_schema: llm_call\n    aggregation: COUNT",
        "event_schema: llm_cal\n    aggregation: COUNT",
    )
    assert check_catalog(catalog_dir) == [
        CatalogProblem(
            "pricing.yaml",
            "llm_calls",
            "unknown event_schema 'llm_cal' (did you mean 'llm_call'?)",
            "usage_meter",
        )
    ]


def test_all_problems_are_reported_at_once(catalog_dir):
    edit(
        catalog_dir,
        Y,
        "event_schema: llm_call\n    aggregation: COUNT",
        "event_schema: llm_cal\n    aggregation: COUNT",
    )
    edit(catalog_dir, Y, "meter: opus_input_tokens", "meter: opus_input_tokenz")
    edit(
        catalog_dir,
        Y,
        '{start_after: "1000000", rate: "0.000012"}',
        '{start_after: "0", rate: "0.000012"}',
    )
    edit(catalog_dir, Y, "target: revenue.opus_input}", "target: revenue.opus_inpt}")
    edit(catalog_dir, "accounts.csv", "Europe/Berlin,globex", "Europe/Berlyn,globex")
    edit(
        catalog_dir,
        "plan_assignments.csv",
        "starter,2026-10-01,2026-11-14",
        "starter,2026-10-01,2026-11-15",
    )
    edit(catalog_dir, "credit_grants.csv", "75.00,EUR", "75.00,USD")
    edit(catalog_dir, "wallet_transactions.csv", "TOPUP,250.00", "TOPUP,-250.00")
    append(catalog_dir, "customers.csv", "cus_acme,Duplicate Acme,")
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_dir)
    lines = str(raised.value).splitlines()
    expected_starts = [
        "pricing.yaml: usage_meter 'llm_calls': unknown event_schema 'llm_cal'",
        "pricing.yaml: rate_card 'starter.opus_input': unknown meter 'opus_input_tokenz'",
        "pricing.yaml: rate_card 'starter.opus_input': slabs are not strictly increasing",
        "pricing.yaml: pricing_rule 'growth.volume_discount': action.target 'revenue.opus_inpt'",
        "customers.csv: customer 'cus_acme': duplicate id",
        "accounts.csv: account 'acc_globex_eu': timezone 'Europe/Berlyn'",
        "plan_assignments.csv: plan_assignment 'asg_initech_growth': overlaps",
        "credit_grants.csv: credit_grant 'cr_globex_fee': currency USD does not match",
        "wallet_transactions.csv: wallet_transaction 'wt_0002': TOPUP amount -250.00",
    ]
    for start in expected_starts:
        assert any(line.startswith(start) for line in lines), start
    assert len(lines) == len(expected_starts) == len(raised.value.problems)


def test_broken_object_is_not_also_reported_as_unknown_reference(catalog_dir):
    # The meter fails to parse; the rate cards that use it must not add "unknown meter".
    edit(
        catalog_dir,
        Y,
        'aggregation: SUM\n    value: {"var": "attributes.input_tokens"}',
        'aggregation: SUMM\n    value: {"var": "attributes.input_tokens"}',
    )
    found = messages(catalog_dir)
    assert len(found) == 1, found
    assert found[0].startswith("pricing.yaml: usage_meter 'opus_input_tokens': aggregation: 'SUMM'")


def test_open_ended_assignment_overlaps_a_later_one(catalog_dir):
    append(catalog_dir, "plan_assignments.csv", "asg_stark_2027,acc_stark,growth,2027-01-01,")
    assert messages(catalog_dir) == [
        "plan_assignments.csv: plan_assignment 'asg_stark_2027': overlaps plan_assignment "
        "'asg_stark' (2026-11-10 to open) of account 'acc_stark'"
    ]


def test_plan_change_on_consecutive_days_does_not_overlap(catalog_dir):
    # A until X-1, B from X (SEMANTICS, dates in the catalog) is the one correct plan change.
    append(catalog_dir, "plan_assignments.csv", "asg_trial_back,acc_stark_trial,growth,2026-11-01,")
    assert messages(catalog_dir) == []


def test_optional_tables_may_be_absent(catalog_dir):
    (catalog_dir / "credit_grants.csv").unlink()
    (catalog_dir / "wallet_transactions.csv").unlink()
    catalog = load_catalog(catalog_dir)
    assert catalog.credit_grants == () and catalog.wallet_transactions == ()


def test_required_table_missing(catalog_dir):
    (catalog_dir / "customers.csv").unlink()
    found = messages(catalog_dir)
    assert "customers.csv: file not found (CSV or Parquet)" in found
    # Accounts then name customers that are not there; that is reported too.
    assert any(
        line.startswith("accounts.csv: account 'acc_acme_prod': unknown customer") for line in found
    )


def test_pricing_yaml_missing(catalog_dir):
    (catalog_dir / "pricing.yaml").unlink()
    assert "pricing.yaml: file not found" in messages(catalog_dir)


def test_nested_unknown_field_suggests_the_right_name(catalog_dir):
    edit(catalog_dir, Y, 'package_size: "1000000"', 'packagesize: "1000000"')
    assert (
        "pricing.yaml: rate_card 'growth.opus_input': unknown field 'slabs[2].packagesize' "
        "(did you mean 'package_size'?)" in messages(catalog_dir)
    )


def test_yaml_date_in_rule_is_read_as_iso_text(catalog_dir):
    # YAML reads 2026-11-20 as a date; JSON Logic has only strings, so it becomes "2026-11-20".
    edit(
        catalog_dir,
        Y,
        '{"==": [{"var": "account.currency"}, "JPY"]}',
        '{">=": [{"var": "cycle.start"}, 2026-11-20]}',
    )
    rule = load_catalog(catalog_dir).price_plans_by_id["jp_enterprise"].pricing_rules[0]
    assert rule.condition == {">=": [{"var": "cycle.start"}, "2026-11-20"]}


def test_unknown_field_in_action_suggests_the_right_name(catalog_dir):
    edit(catalog_dir, Y, "description: Premium support (5%)}", "descripton: Premium support (5%)}")
    found = messages(catalog_dir)
    assert (
        "pricing.yaml: pricing_rule 'growth.premium_support': unknown field 'action.descripton' "
        "(did you mean 'description'?)" in found
    ), found

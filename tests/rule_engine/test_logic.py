"""Tests of the exact JSON Logic core: exactness, JsonLogic semantics, static checks."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext

import json_logic
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from rule_engine import (
    SUPPORTED_OPERATORS,
    LogicError,
    check_logic,
    evaluate,
    format_number,
    load_logic,
    logic_variables,
)

D = Decimal


def ev(text: str, data: object = None) -> object:
    """Evaluate logic given as JSON text (numbers read as Decimal)."""
    return evaluate(load_logic(text), data)


def as_data(value: object) -> object:
    """A Python value with its numbers as Decimal (strings stay strings)."""
    return load_logic([value])[0]


# ---------------------------------------------------------------- exactness


def test_sum_is_exact():
    assert ev('{"+": [0.1, 0.2]}') == D("0.3")


def test_product_is_exact():
    result = ev('{"*": [1000.10, 0.9]}')
    assert result == D("900.09")
    assert isinstance(result, Decimal)


def test_numeric_string_operand_is_exact():
    # The contract's example rule multiplies by the string "0.9".
    logic = load_logic('{"*": [{"var": "revenue.opus_input"}, "0.9"]}')
    assert evaluate(logic, {"revenue": {"opus_input": D("1000.10")}}) == D("900.09")


def test_large_products_do_not_round():
    assert ev('{"*": [1000000000, 10.00]}') == D("10000000000")
    big = "123456789012345678901234567890.123456789"
    # 39 significant digits: Python's default 28-digit context would round this.
    assert ev(f'{{"*": [{big}, 3]}}') == D("370370367037037036703703703670.370370367")


def test_comparisons_are_exact():
    assert ev('{">": [1000.5, 1000]}') is True
    assert ev('{"<": [1000, 1000.5]}') is True
    assert ev('{">=": [1000.1, 1000.2]}') is False
    assert ev('{"<=": [0.30, 0.3]}') is True
    assert ev('{"<": [0.1, 0.2]}') is True


def test_min_max_are_exact():
    assert ev('{"min": [1.5, 2]}') == D("1.5")
    assert ev('{"max": [1.5, 1.25, 1]}') == D("1.5")
    assert ev('{"max": [-0.1, -0.2]}') == D("-0.1")
    assert ev('{"min": ["2.5", 3]}') == D("2.5")


def test_modulo_is_exact_and_signed_like_js():
    assert ev('{"%": [10.5, 3]}') == D("1.5")
    assert ev('{"%": [-7, 3]}') == D("-1")
    assert ev('{"%": [7, -3]}') == D("1")
    assert ev('{"%": [1E+40, 7]}') == D(10**40 % 7)


def test_division_has_28_significant_digits():
    assert ev('{"/": [1, 3]}') == D("0.3333333333333333333333333333")
    assert ev('{"/": [2, 3]}') == D("0.6666666666666666666666666667")
    assert ev('{"/": [1, 8]}') == D("0.125")
    assert ev('{"/": [100.10, 0.1]}') == D("1001")


def test_division_ignores_the_callers_decimal_context():
    with localcontext() as ctx:
        ctx.prec = 3
        assert ev('{"/": [1, 3]}') == D("0.3333333333333333333333333333")
        assert ev('{"*": [1000.10, 0.9]}') == D("900.09")


def test_registered_over_json_logic():
    # The stock package gives 0 here (it truncates Decimal operands to integers).
    assert json_logic.jsonLogic({"*": [D("1000.10"), D("0.9")]}) == D("900.09")
    assert json_logic.jsonLogic({">": [D("1000.5"), D("1000")]}) is True


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{"/": [1, 0]}', "'/'"),
        ('{"/": [0, 0]}', "'/'"),
        ('{"%": [1, 0]}', "'%'"),
        ('{"+": ["abc", 1]}', "'abc'"),
        ('{"-": ["abc", 1]}', "'abc'"),
        ('{"*": [2, "x"]}', "'x'"),
        ('{"*": []}', "'*'"),
        ('{"min": []}', "'min'"),
        ('{"max": [1, "nope"]}', "'nope'"),
        ('{"+": [null, 1]}', "null"),
        ('{"+": ["", 1]}', "''"),
        ('{"-": ["Infinity", 1]}', "infinite"),
    ],
)
def test_nan_and_infinity_raise(text, fragment):
    with pytest.raises(LogicError) as info:
        ev(text)
    assert fragment in str(info.value)


def test_absurd_magnitudes_raise_logic_error():
    with pytest.raises(LogicError, match="out of range"):
        ev('{"*": ["1e999999999999999999", 10]}')


def test_division_by_zero_names_operator_and_operand():
    with pytest.raises(LogicError, match=r"'/'.*5.*zero"):
        ev('{"/": [{"var": "x"}, 0]}', {"x": D(5)})


def test_unsupported_operator_raises_at_evaluation():
    with pytest.raises(LogicError, match="unsupported JSON Logic operator 'method'"):
        evaluate({"method": ["abc", "upper"]})
    with pytest.raises(LogicError, match="did you mean"):
        evaluate({"mul": [1, 2]})


def test_short_circuit_does_not_evaluate_the_other_branch():
    assert ev('{"or": [1, {"/": [1, 0]}]}') == D(1)
    assert ev('{"and": [0, {"/": [1, 0]}]}') == D(0)
    assert ev('{"if": [true, "ok", {"/": [1, 0]}]}') == "ok"


# ---------------------------------------------------------------- coercion


def test_js_number_conversion_for_minus_divide_modulo():
    assert ev('{"-": ["  12 ", 2]}') == D(10)
    assert ev('{"-": ["", 1]}') == D(-1)  # Number("") is 0
    assert ev('{"-": [null, 1]}') == D(-1)  # Number(null) is 0
    assert ev('{"-": [true, 1]}') == D(0)
    assert ev('{"/": ["1e3", 4]}') == D(250)
    assert ev('{"-": ["0x10", 1]}') == D(15)


def test_parse_float_for_plus_and_times():
    # json-logic-js uses parseFloat for + and *: a numeric prefix counts, "" and null are NaN.
    assert ev('{"+": ["3.14"]}') == D("3.14")
    assert ev('{"+": ["12px", 1]}') == D(13)
    assert ev('{"*": [" 2 ", "0.5"]}') == D(1)
    assert ev('{"+": []}') == D(0)


def test_unary_minus_and_plus():
    assert ev('{"-": [5]}') == D(-5)
    assert ev('{"-": "2.50"}') == D("-2.50")
    assert ev('{"+": "1e3"}') == D(1000)


def test_numeric_strings_in_data_stay_strings_until_an_operator_converts_them():
    data = {"n": "12"}
    assert evaluate({"var": "n"}, data) == "12"
    assert evaluate({"+": [{"var": "n"}, 1]}, data) == D(13)
    assert evaluate({"===": [{"var": "n"}, 12]}, data) is False
    assert evaluate({"==": [{"var": "n"}, 12]}, data) is True


def test_python_ints_and_floats_in_data_are_read_exactly():
    assert evaluate({"+": [{"var": "a"}, {"var": "b"}]}, {"a": 0.1, "b": 0.2}) == D("0.3")
    assert evaluate({"*": [{"var": "a"}, 3]}, {"a": 7}) == D(21)


# ---------------------------------------------------------------- equality and comparison


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1, "1", True),
        (0, "", True),
        (0, "0", True),
        ("1.0", 1, True),
        (" 12 ", 12, True),
        ("abc", 0, False),
        (None, 0, False),
        (None, "", False),
        (None, False, False),
        (None, None, True),
        (False, "0", True),
        (True, 1, True),
        (True, 2, False),
        (True, "1", True),
        ("a", "a", True),
        ("1", "01", False),
        ([], "", True),
        ([1], 1, True),
        ([1, 2], "1,2", True),
        ({"x": 1}, "[object Object]", True),
        (1.0, 1, True),
    ],
)
def test_loose_equality_follows_js(a, b, expected):
    data = {"a": as_data(a), "b": as_data(b)}
    assert evaluate({"==": [{"var": "a"}, {"var": "b"}]}, data) is expected
    assert evaluate({"!=": [{"var": "a"}, {"var": "b"}]}, data) is (not expected)


def test_arrays_compare_by_identity_like_js():
    assert ev('{"==": [[1], [1]]}') is False
    assert evaluate({"==": [{"var": "a"}, {"var": "a"}]}, {"a": [D(1)]}) is True


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1, 1.0, True),
        (D("1.50"), D("1.5"), True),
        (1, "1", False),
        (None, None, True),
        (True, 1, False),
        ("x", "x", True),
        (0, False, False),
    ],
)
def test_strict_equality(a, b, expected):
    data = {"a": as_data(a), "b": as_data(b)}
    assert evaluate({"===": [{"var": "a"}, {"var": "b"}]}, data) is expected
    assert evaluate({"!==": [{"var": "a"}, {"var": "b"}]}, data) is (not expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"<": ["10", "9"]}', True),  # two strings compare as strings
        ('{"<": ["10", 9]}', False),  # a number makes it numeric
        ('{"<": ["abc", 1]}', False),  # NaN comparisons are false
        ('{">=": ["abc", 1]}', False),
        ('{"<": [null, 1]}', True),  # null is 0
        ('{">=": [null, 0]}', True),
        ('{"<": ["", 1]}', True),
        ('{"<": ["a", "b"]}', True),
        ('{">": ["b", "a"]}', True),
        ('{"<=": ["2024-01-31", "2024-02-01"]}', True),
        ('{"<": [1, 2, 3]}', True),  # between, exclusive
        ('{"<": [1, 1, 3]}', False),
        ('{"<": [1, 3, 3]}', False),
        ('{"<=": [1, 1, 3]}', True),  # between, inclusive
        ('{"<=": [0.5, 0.50, 0.5]}', True),
        ('{"<=": [1, 4, 3]}', False),
        ('{"<": [1, 1.5, 2]}', True),
    ],
)
def test_comparisons(text, expected):
    assert ev(text) is expected


def test_string_comparison_uses_utf16_order_like_js():
    # U+FF5E sorts after U+1F600 by code point but before it by UTF-16 code unit.
    assert evaluate({"<": ["\U0001f600", "\uff5e"]}) is True


# ---------------------------------------------------------------- truthiness and logic


@pytest.mark.parametrize(
    "value, expected",
    [
        ([], False),
        ([0], True),
        ("0", True),
        ("", False),
        (0, False),
        (D("0.00"), False),
        (D("-0"), False),
        (D("0.01"), True),
        (None, False),
        ({}, True),
        ("false", True),
        (False, False),
        (True, True),
    ],
)
def test_truthiness(value, expected):
    data = {"v": value}
    assert evaluate({"!!": {"var": "v"}}, data) is expected
    assert evaluate({"!": {"var": "v"}}, data) is (not expected)
    assert evaluate({"if": [{"var": "v"}, "yes", "no"]}, data) == ("yes" if expected else "no")


def test_not_of_a_literal_empty_array():
    assert ev('{"!": [[]]}') is True
    assert ev('{"!!": [[]]}') is False


def test_and_or_return_the_deciding_operand():
    assert ev('{"and": [1, 0, 2]}') == D(0)
    assert ev('{"and": [1, "a"]}') == "a"
    assert ev('{"or": [0, "", "x"]}') == "x"
    assert ev('{"or": [0, ""]}') == ""
    assert ev('{"or": [false, []]}') == []
    assert ev('{"and": [true]}') is True


def test_if_chains():
    logic = load_logic(
        '{"if": [{"<": [{"var": "t"}, 0]}, "freezing",'
        ' {"<": [{"var": "t"}, 100]}, "liquid", "gas"]}'
    )
    assert evaluate(logic, {"t": D(-1)}) == "freezing"
    assert evaluate(logic, {"t": D("99.9")}) == "liquid"
    assert evaluate(logic, {"t": D(100)}) == "gas"
    assert ev('{"if": [false, 1]}') is None
    assert ev('{"if": [false, 1, false, 2, 3]}') == D(3)
    assert ev('{"if": [false, 1, true, 2]}') == D(2)
    assert ev('{"if": [false, 1, false, 2]}') is None


# ---------------------------------------------------------------- var, missing, in


def test_var_paths_and_defaults():
    data = {"a": {"b": [D(10), {"c": "x"}]}, "n": None, "z": D(0)}
    assert evaluate({"var": "a.b.0"}, data) == D(10)
    assert evaluate({"var": "a.b.1.c"}, data) == "x"
    assert evaluate({"var": "a.b.length"}, data) == D(2)
    assert evaluate({"var": ["a.b.5", "dflt"]}, data) == "dflt"
    assert evaluate({"var": ["a.b.-1", "dflt"]}, data) == "dflt"  # no negative indexes in JS
    assert evaluate({"var": ["a.q.r", 7]}, data) == 7
    assert evaluate({"var": ["n", 7]}, data) is None  # found null is not "not found"
    assert evaluate({"var": ["n.x", 7]}, data) == 7
    assert evaluate({"var": "z"}, data) == D(0)
    assert evaluate({"var": "missing"}, data) is None
    assert evaluate({"var": 1}, ["a", "b"]) == "b"
    assert evaluate({"var": ["x", {"+": [1, 2]}]}, {}) == D(3)


@pytest.mark.parametrize("data", [0, D(0), [], {}, "", False, None])
def test_falsy_data_is_not_replaced(data):
    # The stock package turns falsy data into {} before evaluating.
    assert evaluate({"var": ""}, data) == data
    assert type(evaluate({"var": ""}, data)) is type(data)
    assert evaluate({"var": []}, data) == data
    assert evaluate({"var": ["x", "d"]}, data) == "d"


def test_falsy_values_inside_data():
    assert evaluate({"var": "x"}, {"x": 0}) == 0
    assert evaluate({"var": "x"}, {"x": D(0)}) == D(0)
    assert evaluate({"var": "x"}, {"x": ""}) == ""
    assert evaluate({"var": "x"}, {"x": []}) == []
    assert evaluate({"==": [{"var": "x"}, 0]}, {"x": D(0)}) is True
    assert evaluate({"+": [{"var": ""}, 1]}, D(0)) == D(1)


def test_missing():
    data = {"a": D(0), "b": {"c": ""}, "d": None, "e": False}
    assert evaluate({"missing": ["a", "b.c", "d", "e", "f"]}, data) == ["b.c", "d", "f"]
    assert evaluate({"missing": [["a", "f"]]}, data) == ["f"]
    assert evaluate({"missing": "a"}, data) == []
    assert evaluate({"if": [{"missing": ["x"]}, "incomplete", "ok"]}, {"x": D(1)}) == "ok"
    assert evaluate({"if": [{"missing": ["x"]}, "incomplete", "ok"]}, {}) == "incomplete"
    assert evaluate({"missing": ["x"]}, []) == ["x"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"in": ["Spring", "Springfield"]}', True),
        ('{"in": ["spring", "Springfield"]}', False),
        ('{"in": ["x", ["a", "x"]]}', True),
        ('{"in": ["y", ["a", "x"]]}', False),
        ('{"in": [1, [1.0, 2]]}', True),  # indexOf uses ===, numbers by value
        ('{"in": ["1", [1]]}', False),
        ('{"in": [1, "a1"]}', True),  # the needle becomes a string
        ('{"in": [1.50, "v1.5"]}', True),
        ('{"in": ["", ""]}', False),
        ('{"in": ["a", null]}', False),
    ],
)
def test_in(text, expected):
    assert ev(text) is expected


def test_in_an_object_is_false():
    assert evaluate({"in": ["a", {"var": "o"}]}, {"o": {"a": D(1)}}) is False


def test_arithmetic_on_an_object_raises():
    with pytest.raises(LogicError, match="'-': operand an object is not a number"):
        evaluate({"-": [{"var": "o"}, 1]}, {"o": {"a": D(1)}})


# ---------------------------------------------------------------- cat and format_number


def test_cat_formats_numbers_like_javascript():
    assert ev('{"cat": [1.50]}') == "1.5"
    assert ev('{"cat": ["total: ", {"+": [0.1, 0.2]}, " USD"]}') == "total: 0.3 USD"
    assert (
        ev('{"cat": [1E+3, "|", 2, "|", -0.50, "|", true, "|", null, "|", [1, null, 2]]}')
        == "1000|2|-0.5|true||1,,2"
    )
    assert ev('{"cat": []}') == ""
    assert ev('{"cat": "x"}') == "x"


@pytest.mark.parametrize(
    "value, text",
    [
        ("1.50", "1.5"),
        ("1E+3", "1000"),
        ("100", "100"),
        ("0", "0"),
        ("-0", "0"),
        ("0.000", "0"),
        ("-2.500", "-2.5"),
        ("0.000001", "0.000001"),
        ("1E-7", "1e-7"),
        ("1.23E-18", "1.23e-18"),
        ("123456789012345678901", "123456789012345678901"),
        ("1E+21", "1e+21"),
        ("1.5E+21", "1.5e+21"),
        ("-1E+21", "-1e+21"),
        ("900.090", "900.09"),
        ("12345678901234567890.123456789", "12345678901234567890.123456789"),
    ],
)
def test_format_number(value, text):
    assert format_number(D(value)) == text


# ---------------------------------------------------------------- load_logic


def test_load_logic_text_gives_decimals():
    logic = load_logic('{"if": [true, [1, 2.5, -3e2], false]}')
    assert logic == {"if": [True, [D(1), D("2.5"), D("-3E+2")], False]}
    assert isinstance(logic["if"][1][0], Decimal)
    assert logic["if"][0] is True


def test_load_logic_object_from_yaml():
    obj = yaml.safe_load(
        'condition: {">": [{"var": "revenue.x"}, 1000.10]}\n'
        'computation: {"*": [{"var": "revenue.x"}, 0.9, true, 2024-01-01]}'
    )
    logic = load_logic(obj)
    assert logic["condition"][">"][1] == D("1000.10")
    assert logic["computation"]["*"][1:] == [D("0.9"), True, "2024-01-01"]
    assert isinstance(logic["computation"]["*"][1], Decimal)


@pytest.mark.parametrize("bad", ['{"+": [1,', '{"+": [NaN, 1]}', "", b"{"])
def test_load_logic_rejects_bad_text(bad):
    with pytest.raises(LogicError):
        load_logic(bad)


def test_load_logic_rejects_non_finite_objects():
    with pytest.raises(LogicError):
        load_logic({"+": [float("inf"), 1]})


# ---------------------------------------------------------------- check_logic


def test_supported_operators():
    assert SUPPORTED_OPERATORS == frozenset(
        {
            "var",
            "==",
            "!=",
            "===",
            "!==",
            "<",
            "<=",
            ">",
            ">=",
            "and",
            "or",
            "!",
            "!!",
            "in",
            "if",
            "+",
            "-",
            "*",
            "/",
            "%",
            "min",
            "max",
            "cat",
            "missing",
        }
    )


def test_check_logic_accepts_good_logic():
    good = load_logic("""{"and": [
        {"==": [{"var": "dimensions.model"}, "opus"]},
        {"<=": [0, {"var": ["attributes.n", 0]}, 10]},
        {"!": {"missing": ["attributes.n"]}},
        {"in": ["eu", {"cat": [{"var": "dimensions.region"}, "-x"]}]},
        {"if": [{"var": "a"}, {"-": [{"var": "b"}]}, {"%": [{"var": "c"}, 2]}]}
    ]}""")
    assert check_logic(good) == []
    assert check_logic(D(1)) == []
    assert check_logic(True) == []
    assert check_logic({"var": ""}) == []


def test_check_logic_unsupported_operator_suggests():
    assert check_logic({"mul": [1, 2]}) == [
        "unsupported JSON Logic operator 'mul' (did you mean '*'?)"
    ]
    assert check_logic({"vra": "x"}) == [
        "unsupported JSON Logic operator 'vra' (did you mean 'var'?)"
    ]
    assert check_logic({"frobnicate": []}) == ["unsupported JSON Logic operator 'frobnicate'"]
    [problem] = check_logic({"merge": [[1], [2]]})
    assert problem.startswith("unsupported JSON Logic operator 'merge'")


@pytest.mark.parametrize(
    "logic, message",
    [
        ({"!": [1, 2]}, "'!' takes 1 argument, got 2"),
        ({"!!": []}, "'!!' takes 1 argument, got 0"),
        ({"<": [1]}, "'<' takes 2 or 3 arguments, got 1"),
        ({"<=": [1, 2, 3, 4]}, "'<=' takes 2 or 3 arguments, got 4"),
        ({">": [1, 2, 3]}, "'>' takes 2 arguments, got 3"),
        ({"%": [1]}, "'%' takes 2 arguments, got 1"),
        ({"/": [1, 2, 3]}, "'/' takes 2 arguments, got 3"),
        ({"in": ["a"]}, "'in' takes 2 arguments, got 1"),
        ({"==": [1, 2, 3]}, "'==' takes 2 arguments, got 3"),
        ({"-": [1, 2, 3]}, "'-' takes 1 or 2 arguments, got 3"),
        ({"var": ["a", 1, 2]}, "'var' takes 1 or 2 arguments, got 3"),
        ({"if": [True]}, "'if' takes at least 2 arguments, got 1"),
        ({"min": []}, "'min' takes at least 1 argument, got 0"),
    ],
)
def test_check_logic_arity(logic, message):
    assert check_logic(logic) == [message]


def test_check_logic_computed_var_path():
    [problem] = check_logic({"var": {"cat": ["usage.", "x"]}})
    assert "'var' path must be a literal" in problem and "computed" in problem
    assert check_logic({"var": [True]}) == [
        "'var' path must be a literal string or number, got true"
    ]
    assert check_logic({"var": 0}) == []


def test_check_logic_computed_missing_names():
    [problem] = check_logic({"missing": [{"var": "x"}]})
    assert "'missing' names must be literal" in problem


def test_check_logic_object_with_several_keys():
    [problem] = check_logic({"==": [1, 1], "var": "x"})
    assert "2 keys" in problem and "exactly one key" in problem


def test_check_logic_finds_every_problem_deep_inside():
    logic = {"and": [{"if": [{"mul": [1, 2]}, {"!": [1, 2]}]}, [{"/": [1]}]]}
    assert check_logic(logic) == [
        "unsupported JSON Logic operator 'mul' (did you mean '*'?)",
        "'!' takes 1 argument, got 2",
        "'/' takes 2 arguments, got 1",
    ]


# ---------------------------------------------------------------- logic_variables


def test_logic_variables():
    logic = load_logic("""{"and": [
        {">": [{"var": "revenue.opus_input"}, 1000]},
        {"missing": ["usage.a", "usage.b"]},
        {"missing": [["cycle.days"]]},
        {"var": ["subtotal", 0]},
        {"if": [true, {"var": "account.currency"}, 0]},
        {"var": {"cat": ["usage.", {"var": "k"}]}},
        {"var": 0}
    ]}""")
    assert logic_variables(logic) == {
        "revenue.opus_input",
        "usage.a",
        "usage.b",
        "cycle.days",
        "subtotal",
        "account.currency",
        "k",
        "0",
    }
    assert logic_variables(D(1)) == set()
    assert logic_variables({"var": ""}) == {""}


# ---------------------------------------------------------------- purity


def test_package_is_pure():
    code = (
        "import sys, rule_engine; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dagster', 'dbt', 'streamlit')]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- properties

# Exact decimals with up to 31 digits and up to 20 places, built from strings (no rounding).
decimals = st.builds(
    lambda i, places: D(f"{i}E-{places}"), st.integers(-(10**30), 10**30), st.integers(0, 20)
)
_WIDE = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


@given(decimals, decimals)
def test_arithmetic_matches_python_decimal(a, b):
    data = {"a": a, "b": b}
    a_b = [{"var": "a"}, {"var": "b"}]
    assert evaluate({"+": a_b}, data) == _WIDE.add(a, b)
    assert evaluate({"-": a_b}, data) == _WIDE.subtract(a, b)
    assert evaluate({"*": a_b}, data) == _WIDE.multiply(a, b)
    assert evaluate({"min": a_b}, data) == min(a, b)
    assert evaluate({"max": a_b}, data) == max(a, b)
    if b != 0:
        with localcontext(Context(prec=28)):
            assert evaluate({"/": a_b}, data) == a / b
        assert evaluate({"%": a_b}, data) == _WIDE.remainder(a, b)


@given(decimals, decimals)
def test_comparisons_match_python_decimal(a, b):
    data = {"a": a, "b": b}
    a_b = [{"var": "a"}, {"var": "b"}]
    assert evaluate({"<": a_b}, data) is (a < b)
    assert evaluate({"<=": a_b}, data) is (a <= b)
    assert evaluate({">": a_b}, data) is (a > b)
    assert evaluate({">=": a_b}, data) is (a >= b)
    assert evaluate({"==": a_b}, data) is (a == b)
    assert evaluate({"===": a_b}, data) is (a == b)
    assert evaluate({"<": [a, b, a]}) is False
    assert evaluate({"<=": [min(a, b), a, max(a, b)]}) is True


@given(decimals, decimals)
def test_json_text_numbers_and_numeric_strings_are_exact(a, b):
    assert ev(f'{{"+": [{a}, {b}]}}') == _WIDE.add(a, b)
    assert evaluate({"-": [str(a), str(b)]}) == _WIDE.subtract(a, b)
    assert evaluate({"*": [str(a), str(b)]}) == _WIDE.multiply(a, b)


@given(decimals)
def test_format_number_round_trips(a):
    text = format_number(a)
    assert D(text) == a
    assert evaluate({"==": [text, a]}) is True
    assert json.loads(text, parse_float=D, parse_int=D) == a

"""Exact-decimal JSON Logic value operators with JavaScript coercion rules."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, DecimalException

__all__ = [
    "DIVISION_PRECISION",
    "UNDEFINED",
    "VALUE_OPERATORS",
    "LogicError",
    "format_number",
    "js_string",
    "js_value",
    "loose_equal",
    "parse_float",
    "strict_equal",
    "to_number",
    "to_primitive",
    "truthy",
]


class LogicError(Exception):
    """A JSON Logic expression that cannot be loaded or evaluated (JS would give NaN/Infinity)."""


class _Undefined:
    """JavaScript `undefined`: an operand the expression did not supply."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()

# +, -, *, %, min, max never round: their results have finitely many digits.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
# 1/3 has no finite expansion, so division alone rounds (half-even), like Python's default context.
DIVISION_PRECISION = 28
_DIVISION = Context(prec=DIVISION_PRECISION, Emax=MAX_EMAX, Emin=MIN_EMIN)

# JS StrWhiteSpaceChar: whitespace and line terminators that Number()/parseFloat() skip.
_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL_LITERAL = r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
# The regex, not Decimal(), decides what is a number: Decimal would also take "1_000" or "nan".
_NUMBER_RE = re.compile(_DECIMAL_LITERAL)
_RADIX_RE = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_RADIX = {"x": 16, "o": 8, "b": 2}


def js_value(x: object) -> object:
    """Normalise a Python value to the JS-like types the operators reason about."""
    if isinstance(x, bool) or x is None or isinstance(x, (str, Decimal, list, dict)):
        return x
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, float):
        # The shortest round-trip string is what JavaScript itself shows for this double.
        return Decimal(repr(x))
    if isinstance(x, tuple):
        return list(x)
    if isinstance(x, (dt.date, dt.datetime, dt.time)):
        # JSON Logic has no dates: callers' date objects behave as ISO strings.
        return x.isoformat()
    return x


def _string_to_number(s: str) -> Decimal | None:
    """JS Number(string): None stands for NaN."""
    s = s.strip(_JS_SPACE)
    if s == "":
        return Decimal(0)
    if _NUMBER_RE.fullmatch(s):
        return Decimal(s)
    radix = _RADIX_RE.fullmatch(s)
    if radix:
        body = radix.group(1)
        return Decimal(int(body[1:], _RADIX[body[0].lower()]))
    return None


def to_primitive(x: object) -> object:
    """JS ToPrimitive for our values: arrays and objects become strings."""
    x = js_value(x)
    if isinstance(x, (list, dict)) or not _is_primitive(x):
        return js_string(x)
    return x


def _is_primitive(x: object) -> bool:
    return x is None or x is UNDEFINED or isinstance(x, (bool, str, Decimal))


def to_number(x: object) -> Decimal | None:
    """JS Number(x) as an exact Decimal; None stands for NaN."""
    x = to_primitive(x)
    if x is UNDEFINED:
        return None
    if x is None:
        return Decimal(0)
    if isinstance(x, bool):
        return Decimal(int(x))
    if isinstance(x, Decimal):
        return None if x.is_nan() else x
    return _string_to_number(x)


def parse_float(x: object) -> Decimal | None:
    """JS parseFloat(x) (used by json-logic-js for + and *); None stands for NaN."""
    x = js_value(x)
    if isinstance(x, Decimal):
        # parseFloat(String(n)) gives n back; skip the round trip to stay exact.
        return None if x.is_nan() else x
    match = _NUMBER_RE.match(js_string(x).lstrip(_JS_SPACE))
    return Decimal(match.group(0)) if match else None


def format_number(d: Decimal) -> str:
    """Format a number as JavaScript's String(number) does, but with the exact digits."""
    d = js_value(d)
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "-Infinity" if d < 0 else "Infinity"
    if d == 0:
        return "0"  # JS prints -0 as "0"
    sign, digits, exp = d.as_tuple()
    digits = list(digits)
    while digits[-1] == 0:  # strip trailing zeros by hand: normalize() would round to 28 digits
        digits.pop()
        exp += 1
    s = "".join(map(str, digits))
    k, n = len(s), len(s) + exp  # value = 0.s × 10^n, as in ECMA-262 Number::toString
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + s
    else:
        e = n - 1
        mantissa = s if k == 1 else s[0] + "." + s[1:]
        out = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return "-" + out if sign else out


def js_string(x: object) -> str:
    """JS String(x); arrays join their elements with "," and show null as ""."""
    x = js_value(x)
    if x is None:
        return "null"
    if x is UNDEFINED:
        return "undefined"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, Decimal):
        return format_number(x)
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        return ",".join("" if v is None or v is UNDEFINED else js_string(v) for v in x)
    return "[object Object]"


def truthy(x: object) -> bool:
    """JsonLogic truthiness: JS truthiness, except that an empty array is falsy."""
    x = js_value(x)
    if x is None or x is UNDEFINED or x is False:
        return False
    if isinstance(x, Decimal):
        return not x.is_nan() and x != 0
    if isinstance(x, (str, list)):
        return len(x) > 0
    return True  # true, objects (even {}) and anything else


def _kind(x: object) -> str:
    if x is None:
        return "null"
    if x is UNDEFINED:
        return "undefined"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, Decimal):
        return "number"
    if isinstance(x, str):
        return "string"
    return "object"


def _same_number(a: Decimal, b: Decimal) -> bool:
    return not a.is_nan() and not b.is_nan() and a == b


def strict_equal(a: object, b: object) -> bool:
    """JS `===`: same type and value; numbers by value (1 === 1.0), arrays/objects by identity."""
    a, b = js_value(a), js_value(b)
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "number":
        return _same_number(a, b)
    if kind == "object":
        return a is b
    return a == b


def loose_equal(a: object, b: object) -> bool:
    """JS `==` (ECMA-262 IsLooselyEqual) over JSON values."""
    a, b = js_value(a), js_value(b)
    ka, kb = _kind(a), _kind(b)
    if ka == kb:
        return strict_equal(a, b)
    if {ka, kb} <= {"null", "undefined"}:
        return True
    if ka in ("null", "undefined") or kb in ("null", "undefined"):
        return False
    if ka == "boolean":
        return loose_equal(to_number(a), b)
    if kb == "boolean":
        return loose_equal(a, to_number(b))
    if {ka, kb} == {"number", "string"}:
        x, y = to_number(a), to_number(b)
        return x is not None and y is not None and x == y
    if ka == "object":
        return loose_equal(to_primitive(a), b)
    if kb == "object":
        return loose_equal(a, to_primitive(b))
    return False


def _utf16(s: str) -> bytes:
    # JS orders strings by UTF-16 code units; big-endian bytes compare the same way.
    return s.encode("utf-16-be", "surrogatepass")


def _less(a: object, b: object, or_equal: bool) -> bool:
    """JS `a < b` / `a <= b`: two strings compare as strings, anything else as numbers."""
    pa, pb = to_primitive(a), to_primitive(b)
    if isinstance(pa, str) and isinstance(pb, str):
        x, y = _utf16(pa), _utf16(pb)
    else:
        x, y = to_number(pa), to_number(pb)
        if x is None or y is None:
            return False  # a NaN comparison is false, as in JS
    return x <= y if or_equal else x < y


def _less_than(a=UNDEFINED, b=UNDEFINED, c=UNDEFINED, *_):
    # Three arguments: the "between" form a < b < c (exclusive).
    if c is UNDEFINED:
        return _less(a, b, False)
    return _less(a, b, False) and _less(b, c, False)


def _less_or_equal(a=UNDEFINED, b=UNDEFINED, c=UNDEFINED, *_):
    if c is UNDEFINED:
        return _less(a, b, True)
    return _less(a, b, True) and _less(b, c, True)


def _greater_than(a=UNDEFINED, b=UNDEFINED, *_):
    return _less(b, a, False)


def _greater_or_equal(a=UNDEFINED, b=UNDEFINED, *_):
    return _less(b, a, True)


def _operand(op: str, x: object, convert: Callable[[object], Decimal | None]) -> Decimal:
    """A finite number for an arithmetic operator, or LogicError where JS yields NaN/Infinity."""
    n = convert(x)
    if n is None:
        raise LogicError(f"'{op}': operand {_show(x)} is not a number")
    if n.is_infinite():
        raise LogicError(f"'{op}': operand {_show(x)} is infinite")
    return n


def _show(x: object) -> str:
    x = js_value(x)
    if isinstance(x, str):
        return repr(x)
    if isinstance(x, dict):
        return "an object"
    if isinstance(x, list):
        return f"[{js_string(x)}]"
    return js_string(x)


def _arithmetic(op: str) -> Callable[[Callable[..., Decimal]], Callable[..., Decimal]]:
    """Report absurd magnitudes (e.g. "1e999999999999999999") as LogicError, not a crash."""

    def wrap(fn: Callable[..., Decimal]) -> Callable[..., Decimal]:
        @functools.wraps(fn)
        def run(*args: object) -> Decimal:
            try:
                return fn(*args)
            except (DecimalException, MemoryError) as exc:
                raise LogicError(f"'{op}': result out of range ({type(exc).__name__})") from None

        return run

    return wrap


@_arithmetic("+")
def _add(*args):
    # json-logic-js: reduce((a, b) => parseFloat(a) + parseFloat(b), 0)
    total = Decimal(0)
    for x in args:
        total = _EXACT.add(total, _operand("+", x, parse_float))
    return total


@_arithmetic("*")
def _multiply(*args):
    # json-logic-js: reduce((a, b) => parseFloat(a) * parseFloat(b)) with no initial value.
    if not args:
        raise LogicError("'*': needs at least one operand")
    product = _operand("*", args[0], parse_float)
    for x in args[1:]:
        product = _EXACT.multiply(product, _operand("*", x, parse_float))
    return product


@_arithmetic("-")
def _subtract(a=UNDEFINED, b=UNDEFINED, *_):
    if b is UNDEFINED:
        return _EXACT.minus(_operand("-", a, to_number))
    return _EXACT.subtract(_operand("-", a, to_number), _operand("-", b, to_number))


@_arithmetic("/")
def _divide(a=UNDEFINED, b=UNDEFINED, *_):
    x, y = _operand("/", a, to_number), _operand("/", b, to_number)
    if y == 0:
        raise LogicError(f"'/': division of {_show(a)} by zero ({_show(b)})")
    return _DIVISION.divide(x, y)


@_arithmetic("%")
def _modulo(a=UNDEFINED, b=UNDEFINED, *_):
    x, y = _operand("%", a, to_number), _operand("%", b, to_number)
    if y == 0:
        raise LogicError(f"'%': modulo of {_show(a)} by zero ({_show(b)})")
    # Decimal's remainder truncates toward zero and keeps the dividend's sign, like JS %.
    return _EXACT.remainder(x, y)


def _min(*args):
    if not args:
        raise LogicError("'min': needs at least one operand (JS gives Infinity)")
    return min(_operand("min", x, to_number) for x in args)


def _max(*args):
    if not args:
        raise LogicError("'max': needs at least one operand (JS gives -Infinity)")
    return max(_operand("max", x, to_number) for x in args)


def _cat(*args):
    # json-logic-js: Array.prototype.join.call(arguments, "") -- null shows as "".
    return "".join("" if x is None or x is UNDEFINED else js_string(x) for x in args)


def _in(a=UNDEFINED, b=UNDEFINED, *_):
    b = js_value(b)
    if isinstance(b, str):
        # String.prototype.indexOf; json-logic-js returns false for an empty haystack ("!b").
        return b != "" and js_string(a) in b
    if isinstance(b, list):
        return any(strict_equal(a, item) for item in b)  # Array.prototype.indexOf uses ===
    return False


def _not(a=UNDEFINED, *_):
    return not truthy(a)


def _double_not(a=UNDEFINED, *_):
    return truthy(a)


def _equal(a=UNDEFINED, b=UNDEFINED, *_):
    return loose_equal(a, b)


def _not_equal(a=UNDEFINED, b=UNDEFINED, *_):
    return not loose_equal(a, b)


def _strict(a=UNDEFINED, b=UNDEFINED, *_):
    return strict_equal(a, b)


def _not_strict(a=UNDEFINED, b=UNDEFINED, *_):
    return not strict_equal(a, b)


# Operators that take their already-evaluated operands (json_logic's "common operations").
VALUE_OPERATORS: dict[str, Callable[..., object]] = {
    "==": _equal,
    "!=": _not_equal,
    "===": _strict,
    "!==": _not_strict,
    "<": _less_than,
    "<=": _less_or_equal,
    ">": _greater_than,
    ">=": _greater_or_equal,
    "!": _not,
    "!!": _double_not,
    "in": _in,
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
    "%": _modulo,
    "min": _min,
    "max": _max,
    "cat": _cat,
}

"""Load, check and evaluate JSON Logic exactly (the reference evaluation of meters and rules)."""

from __future__ import annotations

import datetime as dt
import difflib
import json
from decimal import Decimal

import json_logic

from rule_engine.operators import (
    UNDEFINED,
    VALUE_OPERATORS,
    LogicError,
    format_number,
    js_string,
    js_value,
    truthy,
)

__all__ = [
    "SUPPORTED_OPERATORS",
    "LogicError",
    "check_logic",
    "evaluate",
    "format_number",
    "load_logic",
    "logic_variables",
]

SUPPORTED_OPERATORS: frozenset[str] = frozenset(
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


def _register_exact_operators() -> None:
    # Exact operators replace json_logic's truncating ones, so json_logic.jsonLogic is exact too.
    # Its dispatcher resolves var/missing/if/and/or before custom operations (and rewrites falsy
    # data to {}), which add_operation cannot change: evaluate() below walks the tree itself.
    for name, code in VALUE_OPERATORS.items():
        json_logic.add_operation(name, code)


_register_exact_operators()


# ---------------------------------------------------------------- loading


def load_logic(text_or_obj: object) -> object:
    """Parse JSON text, or convert a parsed YAML/JSON object, so every number is a Decimal."""
    if isinstance(text_or_obj, (str, bytes, bytearray)):
        try:
            return json.loads(
                text_or_obj, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant
            )
        except ValueError as exc:
            raise LogicError(f"invalid JSON Logic text: {exc}") from exc
    return _convert(text_or_obj)


def _reject_constant(name: str) -> object:
    raise LogicError(f"invalid JSON Logic text: {name} is not a number")


def _convert(x: object) -> object:
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise LogicError(f"invalid JSON Logic: {x} is not a number")
        return x
    if isinstance(x, (int, float)):
        d = js_value(x)  # int exactly, float through its shortest string ("0.1" not 0.1000…)
        if not d.is_finite():
            raise LogicError(f"invalid JSON Logic: {x!r} is not a number")
        return d
    if isinstance(x, dict):
        return {str(k): _convert(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_convert(v) for v in x]
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()  # YAML reads 2024-01-01 as a date; JSON Logic only has strings
    raise LogicError(f"invalid JSON Logic: unsupported value {x!r} of type {type(x).__name__}")


# ---------------------------------------------------------------- evaluation


def evaluate(logic: object, data: object = None) -> object:
    """Evaluate `logic` against `data` with JsonLogic semantics and exact Decimal arithmetic."""
    result = _eval(logic, data)
    return None if result is UNDEFINED else result


def _eval(logic: object, data: object) -> object:
    if isinstance(logic, (list, tuple)):
        return [_eval(item, data) for item in logic]
    if not json_logic.is_logic(logic):
        return logic  # a literal (objects with 0 or 2+ keys are literals, as in JsonLogic)
    ((op, raw),) = logic.items()
    args = raw if isinstance(raw, (list, tuple)) else [raw]
    if op == "if":
        return _if(args, data)
    if op == "and":
        return _and_or(args, data, stop_when=False)
    if op == "or":
        return _and_or(args, data, stop_when=True)
    if op not in SUPPORTED_OPERATORS:
        raise LogicError(f"unsupported JSON Logic operator {op!r}{_suggestion(op)}")
    values = [_eval(arg, data) for arg in args]
    if op == "var":
        return _var(data, *values)
    if op == "missing":
        return _missing(data, *values)
    return VALUE_OPERATORS[op](*values)


def _if(args: list, data: object) -> object:
    # if c1 then v1 [elif c2 then v2 ...] [else v]; no else gives null.
    i = 0
    while i + 1 < len(args):
        if truthy(_eval(args[i], data)):
            return _eval(args[i + 1], data)
        i += 2
    return _eval(args[i], data) if i < len(args) else None


def _and_or(args: list, data: object, stop_when: bool) -> object:
    # Like JS && and ||: returns the deciding operand itself, not a boolean.
    current: object = UNDEFINED
    for arg in args:
        current = _eval(arg, data)
        if truthy(current) is stop_when:
            return current
    return current


def _var(data: object, path: object = None, default: object = None, *_: object) -> object:
    """json-logic-js `var`: dotted path into objects and arrays; default only when not found."""
    path = js_value(path)
    if path is None or path is UNDEFINED or path == "" or path == []:
        return data  # the whole data, even when it is falsy (json_logic would give {})
    if default is UNDEFINED:
        default = None
    current = data
    for key in js_string(path).split("."):
        if current is None:
            return default
        current = _property(current, key)
        if current is UNDEFINED:
            return default
    return current


def _property(value: object, key: str) -> object:
    """JS value[key] for JSON data; UNDEFINED when there is no such property."""
    if isinstance(value, dict):
        return value.get(key, UNDEFINED)
    if isinstance(value, (list, tuple, str)):
        if key == "length":
            return Decimal(len(value))
        # Only canonical array indexes ("0", "12"; not "-1" or "01") name elements.
        if key.isdecimal() and key.isascii() and str(int(key)) == key and int(key) < len(value):
            return value[int(key)]
    return UNDEFINED


def _missing(data: object, *names: object) -> list:
    # {"missing": [["a", "b"]]} takes the names from a list (e.g. the result of an if).
    if names and isinstance(names[0], (list, tuple)):
        names = tuple(names[0])
    return [name for name in names if _var(data, name) in (None, "")]


# ---------------------------------------------------------------- static checks

_ALIASES = {
    "mul": "*",
    "multiply": "*",
    "times": "*",
    "product": "*",
    "add": "+",
    "plus": "+",
    "sum": "+",
    "sub": "-",
    "subtract": "-",
    "minus": "-",
    "div": "/",
    "divide": "/",
    "mod": "%",
    "modulo": "%",
    "rem": "%",
    "eq": "==",
    "equals": "==",
    "=": "==",
    "ne": "!=",
    "neq": "!=",
    "<>": "!=",
    "lt": "<",
    "le": "<=",
    "lte": "<=",
    "=<": "<=",
    "gt": ">",
    "ge": ">=",
    "gte": ">=",
    "=>": ">=",
    "not": "!",
    "&&": "and",
    "||": "or",
    "?:": "if",
    "concat": "cat",
    "substr": "cat",
    "missing_some": "missing",
    "contains": "in",
    "minimum": "min",
    "maximum": "max",
}


def _suggestion(op: str) -> str:
    match = _ALIASES.get(op.lower())
    if match is None:
        close = difflib.get_close_matches(op, sorted(SUPPORTED_OPERATORS), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f" (did you mean {match!r}?)" if match else ""


# Allowed argument counts: (minimum, maximum or None for unbounded), where JsonLogic defines them.
_ARITY: dict[str, tuple[int, int | None]] = {
    "var": (1, 2),
    "missing": (1, None),
    "==": (2, 2),
    "!=": (2, 2),
    "===": (2, 2),
    "!==": (2, 2),
    "<": (2, 3),
    "<=": (2, 3),
    ">": (2, 2),
    ">=": (2, 2),
    "and": (1, None),
    "or": (1, None),
    "!": (1, 1),
    "!!": (1, 1),
    "in": (2, 2),
    "if": (2, None),
    "+": (1, None),
    "-": (1, 2),
    "*": (1, None),
    "/": (2, 2),
    "%": (2, 2),
    "min": (1, None),
    "max": (1, None),
    "cat": (0, None),
}


def _arity_text(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} or {high} arguments" if high == low + 1 else f"{low} to {high} arguments"


def check_logic(logic: object) -> list[str]:
    """Static problems of a parsed logic tree, as readable sentences; [] when it is fine."""
    problems: list[str] = []
    _check(logic, problems)
    return problems


def _is_literal_path(x: object) -> bool:
    return isinstance(x, (str, Decimal, int)) and not isinstance(x, bool)


def _check(logic: object, problems: list[str]) -> None:
    if isinstance(logic, (list, tuple)):
        for item in logic:
            _check(item, problems)
        return
    if not isinstance(logic, dict) or not logic:
        return
    if len(logic) > 1:
        keys = ", ".join(repr(k) for k in logic)
        problems.append(
            f"an object with {len(logic)} keys ({keys}) is not a JSON Logic "
            "operation: an operation has exactly one key"
        )
        return
    ((op, raw),) = logic.items()
    args = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if op not in SUPPORTED_OPERATORS:
        problems.append(f"unsupported JSON Logic operator {op!r}{_suggestion(op)}")
        _check(args, problems)
        return
    low, high = _ARITY[op]
    if op == "missing" and len(args) == 1 and isinstance(args[0], (list, tuple)):
        names = list(args[0])
    else:
        names = args
    if len(args) < low or (high is not None and len(args) > high):
        problems.append(f"'{op}' takes {_arity_text(low, high)}, got {len(args)}")
    if op == "var" and args and not _is_literal_path(args[0]):
        problems.append(f"'var' path must be a literal string or number, got {_describe(args[0])}")
    if op == "missing":
        for name in names:
            if not _is_literal_path(name):
                problems.append(f"'missing' names must be literal strings, got {_describe(name)}")
    _check(args, problems)


def _describe(x: object) -> str:
    if isinstance(x, dict):
        # A computed path or name hides what the logic reads, which the catalog must know.
        return "a computed expression " + json.dumps(x, default=str)
    return json.dumps(x, default=str)


def logic_variables(logic: object) -> set[str]:
    """Every data path the logic reads: literal `var` paths and `missing` names."""
    found: set[str] = set()
    _collect(logic, found)
    return found


def _collect(logic: object, found: set[str]) -> None:
    if isinstance(logic, (list, tuple)):
        for item in logic:
            _collect(item, found)
        return
    if not json_logic.is_logic(logic):
        return
    ((op, raw),) = logic.items()
    args = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if op == "var":
        if args and _is_literal_path(args[0]):
            found.add(js_string(args[0]))
        elif not args:
            found.add("")
    elif op == "missing":
        names = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        found.update(js_string(n) for n in names if _is_literal_path(n))
    _collect(args, found)

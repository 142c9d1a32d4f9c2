"""Compile meter `filter`s and `value`s from JSON Logic to set-based SQL (exact DECIMAL(38,12))."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from decimal import Decimal

from rule_engine.logic import SUPPORTED_OPERATORS, check_logic, evaluate
from rule_engine.operators import _JS_SPACE, LogicError, js_value

__all__ = ["SqlCompileError", "compile_filter", "compile_value"]


class SqlCompileError(LogicError):
    """JSON Logic that is valid but cannot be compiled to SQL (or is not valid at all)."""


# ---------------------------------------------------------------- dialect templates
# Everything engine-specific lives here, so another engine (Spark) is one more table.

_DUCKDB = {
    "dec": "DECIMAL(38,12)",
    "str": "VARCHAR",
    "map_get": "{m}[{k}]",
    "try": "TRY({x})",
    "try_dec": "TRY_CAST({x} AS DECIMAL(38,12))",
    "try_double": "TRY_CAST({x} AS DOUBLE)",
    "try_hex": "TRY_CAST({x} AS HUGEINT)",
    "int": "HUGEINT",
    "idiv": "({a} // {b})",
    "trim": "TRIM({x}, {chars})",
    "full_match": "regexp_full_match({x}, {re})",
    "extract": "regexp_extract({x}, {re}, 1)",
    "contains": "(strpos({h}, {n}) > 0)",
    "struct": "{{'l': {l}, 'n': {n}, 's': {s}, 'b': {b}}}",
    "field": "({x}).{f}",
    "let": "list_transform([{value}], lambda {name}: {body})[1]",
    "to_str": "CAST({x} AS VARCHAR)",
    "strip_zeros": "regexp_replace({x}, '\\.?0+$', '')",
    "concat": "concat({args})",
    "strpos": "strpos({h}, {n})",
    "ltrim": "ltrim({x}, {chars})",
    "rtrim": "rtrim({x}, {chars})",
    "trunc": "trunc({x})",
    "pair": "{{'a': {a}, 'b': {b}}}",
    "from_scaled": "CAST(CAST({n} AS DECIMAL(38,0)) * CAST('0.000000000001' AS DECIMAL(13,12)) AS DECIMAL(38,12))",
    # x*y = trunc(x)*y + frac(x)*trunc(y) + frac(x)*frac(y): DECIMAL(38,12) * DECIMAL(38,12)
    # is DECIMAL(38,24) (overflows past 10^14); only the last term has more than 12 places,
    # and every term has the product's sign, so rounding it rounds the sum.
    "mul": (
        "CAST(trunc({x}) * ({y}) + (({x}) % 1) * trunc({y}) "
        "+ round((({x}) % 1) * (({y}) % 1), 12) AS DECIMAL(38,12))"
    ),
    "escape_backslash": "",
}

# Spark SQL (docs/scale-out.md): string literals take backslash escapes; decimals run with
# allowPrecisionLoss=false (SPARK-29123: otherwise products and quotients fall to 6 places),
# so products and the scaled-integer quotient go through DECIMAL(38,0) limbs and back to
# DECIMAL(38,12) via an exact string.
_SPARK_FROM_SCALED = (
    "CAST(concat(CASE WHEN ({n}) < 0 THEN '-' ELSE '' END, "
    "CAST(CAST((abs({n}) - abs({n}) % CAST(1000000000000 AS DECIMAL(38,0))) "
    "/ CAST(1000000000000 AS DECIMAL(13,0)) AS DECIMAL(38,0)) AS STRING), '.', "
    "lpad(CAST(CAST(abs({n}) % CAST(1000000000000 AS DECIMAL(38,0)) AS DECIMAL(38,0)) "
    "AS STRING), 12, '0')) AS DECIMAL(38,12))"
)
_SPARK_INT = "CAST((({x}) - ({x}) % 1) AS DECIMAL(38,0))"
_SPARK_FRAC = "CAST((({x}) % 1) * CAST(1000000000000 AS DECIMAL(13,0)) AS DECIMAL(38,0))"


def _spark_mul() -> str:
    ia, fa = _SPARK_INT.format(x="{x}"), _SPARK_FRAC.format(x="{x}")
    ib, fb = _SPARK_INT.format(x="{y}"), _SPARK_FRAC.format(x="{y}")
    t12 = "CAST(1000000000000 AS DECIMAL(38,0))"
    ff = f"({fa}) * ({fb})"
    # fa*fb / 10^12 rounded half away from zero (the sign of the product)
    q = f"CAST((({ff}) - ({ff}) % {t12}) / CAST(1000000000000 AS DECIMAL(13,0)) AS DECIMAL(38,0))"
    # (sign() would be a DOUBLE and turn the whole sum into one)
    rnd = f"CASE WHEN 2 * abs(({ff}) % {t12}) >= {t12} THEN CASE WHEN ({ff}) < 0 THEN -1 ELSE 1 END ELSE 0 END"
    n = f"(({ia}) * ({ib}) * {t12} + ({ia}) * ({fb}) + ({fa}) * ({ib}) + {q} + {rnd})"
    return _SPARK_FROM_SCALED.replace("{n}", n)


_SPARK = {
    **_DUCKDB,
    "str": "STRING",
    "try": "({x})",  # non-ANSI Spark (dbt-spark's mode) gives NULL where DuckDB's TRY does
    "try_hex": (
        "TRY_CAST(CASE WHEN lower(substr({x}, 2, 1)) = 'x' THEN conv(substr({x}, 3), 16, 10) "
        "ELSE conv(substr({x}, 3), 2, 10) END AS DECIMAL(38,0))"
    ),
    "int": "DECIMAL(38,0)",
    # allowPrecisionLoss=false: the divisor in its narrowest type keeps the quotient's
    # integer digits (money.sql, spark__money_idiv)
    "idiv": (
        "CAST(CASE WHEN abs({b}) < 10000000000000 "
        "THEN (({a}) - ({a}) % ({b})) / CAST({b} AS DECIMAL(13,0)) "
        "WHEN abs({b}) < 1000000000000000000 "
        "THEN (({a}) - ({a}) % ({b})) / CAST({b} AS DECIMAL(18,0)) "
        "ELSE (({a}) - ({a}) % ({b})) / CAST({b} AS DECIMAL(38,0)) END AS DECIMAL(38,0))"
    ),
    "trim": "TRIM(BOTH {chars} FROM {x})",
    "full_match": "({x} RLIKE concat('^(?:', {re}, ')$'))",
    "contains": "(instr({h}, {n}) > 0)",
    "struct": "named_struct('l', {l}, 'n', {n}, 's', {s}, 'b', {b})",
    "let": "element_at(transform(array({value}), {name} -> {body}), 1)",
    # A DECIMAL(38,12) as plain digits (CAST AS STRING writes 4.72E-7 below 10^-6).
    "to_str": (
        "concat(CASE WHEN {x} < 0 THEN '-' ELSE '' END, "
        "CAST(CAST(abs({x}) - abs({x}) % 1 AS DECIMAL(38,0)) AS STRING), '.', "
        "lpad(CAST(CAST((abs({x}) % 1) * CAST(1000000000000 AS DECIMAL(13,0)) "
        "AS DECIMAL(38,0)) AS STRING), 12, '0'))"
    ),
    "strip_zeros": "regexp_replace({x}, '\\\\.?0+$', '')",
    "strpos": "instr({h}, {n})",
    "ltrim": "TRIM(LEADING {chars} FROM {x})",
    "rtrim": "TRIM(TRAILING {chars} FROM {x})",
    "trunc": "(({x}) - ({x}) % 1)",
    "pair": "named_struct('a', {a}, 'b', {b})",
    "from_scaled": _SPARK_FROM_SCALED,
    "mul": _spark_mul(),
    "escape_backslash": "yes",
}
_DIALECTS = {"duckdb": _DUCKDB, "spark": _SPARK}

# Representable numbers: DECIMAL(38,12), so |x| < 10^26 with at most 12 decimal places.
SCALE = 12
_LIMIT = Decimal(10) ** (38 - SCALE)
_ONE_ULP = "0.000000000001"
_TEN12 = "1000000000000"

_NUM, _STR, _BOOL, _NULL, _LIST = "num", "str", "bool", "null", "list"
_PRIMITIVE_ORDER = (_NUM, _STR, _BOOL, _NULL, _LIST)

_DECIMAL_RE = r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"


@dataclass(frozen=True)
class _Node:
    """A compiled subexpression.

    kinds: the JSON types it can take at run time. rep: how `sql` carries it: a typed column
    ("num" DECIMAL, "str" VARCHAR, "bool" BOOLEAN; SQL NULL is JSON null), "null", "dyn" (a
    STRUCT l/n/s/b for mixed types), or "list" (a list known at compile time, in `items`).
    err: SQL that is TRUE when evaluating raises. null_err: SQL NULL in `sql` means "raised"
    (only for nodes that cannot be JSON null), which lets arithmetic propagate errors for free.
    """

    kinds: frozenset
    rep: str
    sql: str = "NULL"
    err: str | None = None
    null_err: bool = False
    items: tuple = ()  # rep "list": (condition SQL or None, _Node) per possible element


class _Compiler:
    def __init__(self, attributes_sql: str, dimensions_sql: str, dialect: str) -> None:
        if dialect not in _DIALECTS:
            raise SqlCompileError(f"unsupported SQL dialect {dialect!r} (supported: duckdb, spark)")
        self.t = _DIALECTS[dialect]
        self.maps = {"attributes": attributes_sql, "dimensions": dimensions_sql}
        self.names = itertools.count()

    # ------------------------------------------------------------ small helpers

    def f(self, template: str, **kw: str) -> str:
        return self.t[template].format(**kw)

    def lit_str(self, s: str) -> str:
        if "\x00" in s:
            raise SqlCompileError("a string literal with a NUL character cannot be compiled")
        if self.t["escape_backslash"]:
            s = s.replace("\\", "\\\\")
        return "'" + s.replace("'", "''") + "'"

    def lit_num(self, d: Decimal) -> str:
        return f"CAST('{d:f}' AS {self.t['dec']})"

    def null_of(self, rep: str) -> str:
        sql_type = {_NUM: self.t["dec"], _STR: self.t["str"], _BOOL: "BOOLEAN"}.get(rep)
        if rep == "dyn":
            return self.struct()
        return f"CAST(NULL AS {sql_type})" if sql_type else "NULL"

    def struct(
        self,
        is_list: str = "FALSE",
        n: str | None = None,
        s: str | None = None,
        b: str | None = None,
    ) -> str:
        return self.f(
            "struct",
            l=is_list,
            n=n or f"CAST(NULL AS {self.t['dec']})",
            s=s or f"CAST(NULL AS {self.t['str']})",
            b=b or "CAST(NULL AS BOOLEAN)",
        )

    def let(self, value: str, body) -> str:
        # SQL has no local variables: bind a costly value once through a one-element lambda.
        if len(value) <= 60:  # cheap enough to repeat
            return body(value)
        name = f"_th{next(self.names)}"
        return self.f("let", value=value, name=name, body=body(name))

    @staticmethod
    def any_of(conds: list[str | None]) -> str | None:
        conds = [c for c in conds if c and c != "FALSE"]
        if not conds:
            return None
        return "TRUE" if "TRUE" in conds else "(" + " OR ".join(conds) + ")"

    def error_of(self, node: _Node) -> str | None:
        return self.any_of([node.err, f"({node.sql}) IS NULL" if node.null_err else None])

    def fold(self, node: _Node) -> _Node:
        """A node that cannot be JSON null carries its error as SQL NULL."""
        if node.err is None or _NULL in node.kinds:
            return node
        if node.rep == _LIST:
            return node
        sql = f"CASE WHEN {node.err} THEN {self.null_of(node.rep)} ELSE {node.sql} END"
        return replace(node, sql=sql, err=None, null_err=True)

    def guarded(
        self,
        kinds: frozenset,
        rep: str,
        body: str,
        args: list[_Node],
        strict: tuple[_Node, ...] = (),
        body_raises: bool = False,
    ) -> _Node:
        """A non-null result of an operator that evaluates all of `args`.

        Arguments in `strict` are used only where SQL NULL propagates to the result, so their
        NULL-coded errors need no extra test. body_raises: the body itself is NULL on error.
        """
        conds = []
        for a in args:
            if any(a is s for s in strict):
                conds.append(a.err)
            else:
                conds.append(self.error_of(a))
        err = self.any_of(conds)
        if err is None:
            null_err = body_raises or any(a.null_err for a in strict)
            return _Node(kinds, rep, body, None, null_err)
        if err == "TRUE":
            return _Node(kinds, rep, self.null_of(rep), None, True)
        return _Node(
            kinds, rep, f"CASE WHEN {err} THEN {self.null_of(rep)} ELSE {body} END", None, True
        )

    # ------------------------------------------------------------ kinds and views

    def is_kind(self, node: _Node, kind: str) -> str:
        """SQL test that the node's value has JSON type `kind` (errors are tested elsewhere)."""
        if node.kinds == {kind}:
            return "TRUE"
        if kind not in node.kinds:
            return "FALSE"
        if node.rep in (_NUM, _STR, _BOOL):
            return f"({node.sql}) IS NULL" if kind == _NULL else f"({node.sql}) IS NOT NULL"
        if node.rep == _NULL:
            return "TRUE" if kind == _NULL else "FALSE"
        field = lambda name: self.f("field", x=node.sql, f=name)  # noqa: E731
        is_list = f"coalesce({field('l')}, FALSE)"
        return {
            _LIST: is_list,
            _NUM: f"(NOT {is_list} AND {field('n')} IS NOT NULL)",
            _STR: f"(NOT {is_list} AND {field('s')} IS NOT NULL)",
            _BOOL: f"({field('b')} IS NOT NULL)",
            _NULL: f"({field('n')} IS NULL AND {field('s')} IS NULL AND {field('b')} IS NULL)",
        }[kind]

    def view(self, node: _Node, kind: str):
        """The value as SQL of its own type, assuming the run-time type is `kind`.

        A list's view is (joined text SQL, length SQL, items or None).
        """
        if node.rep == _LIST:
            return (self.join(node.items), self.length(node.items), node.items)
        if node.rep == "dyn":
            fields = {_NUM: "n", _STR: "s", _BOOL: "b"}
            if kind == _LIST:
                return (
                    self.f("field", x=node.sql, f="s"),
                    self.f("field", x=node.sql, f="n"),
                    None,
                )
            return "NULL" if kind == _NULL else self.f("field", x=node.sql, f=fields[kind])
        return "NULL" if kind == _NULL else node.sql

    def dispatch(self, nodes: list[_Node], fn, default: str = "NULL") -> str:
        """CASE over the possible run-time types of `nodes`; fn(kinds, views) gives each branch."""
        for i, node in enumerate(nodes):
            if node.rep != _LIST and len(node.kinds) > 1 and len(node.sql) > 60:
                # Each branch reads the value again: compute a costly one once.
                return self.let(
                    node.sql,
                    lambda name, i=i, node=node: self.dispatch(
                        [*nodes[:i], replace(node, sql=name), *nodes[i + 1 :]], fn, default
                    ),
                )
        combos = list(
            itertools.product(*[[k for k in _PRIMITIVE_ORDER if k in n.kinds] for n in nodes])
        )
        branches = []
        for combo in combos:
            sql = fn(combo, [self.view(n, k) for n, k in zip(nodes, combo, strict=True)])
            test = [self.is_kind(n, k) for n, k in zip(nodes, combo, strict=True)]
            test = [t for t in test if t != "TRUE"]
            branches.append((" AND ".join(test) if test else "TRUE", sql))
        if len(branches) == 1:
            return branches[0][1]
        whens = []
        for test, sql in branches[:-1]:
            whens.append(f"WHEN {test} THEN {sql}")
        # The last combination is what remains: no test needed.
        return "CASE " + " ".join(whens) + f" ELSE {branches[-1][1]} END"

    # ------------------------------------------------------------ conversions

    def truthy_of(self, kind: str, v) -> str:
        if kind == _NUM:
            return f"(({v}) <> 0)"
        if kind == _STR:
            return f"(({v}) <> '')"
        if kind == _BOOL:
            return f"({v})"
        if kind == _NULL:
            return "FALSE"
        return f"(({v[1]}) > 0)"

    def truthy(self, node: _Node) -> str:
        return self.dispatch([node], lambda ks, vs: self.truthy_of(ks[0], vs[0]))

    def str_number(self, s: str) -> str:
        """JS Number(string) as DECIMAL(38,12); NULL for NaN and for what does not fit."""

        def body(x: str) -> str:
            t = self.f("trim", x=x, chars=self.lit_str(_JS_SPACE))
            return self.let(
                t,
                lambda t: (
                    f"CASE WHEN {t} = '' THEN CAST(0 AS {self.t['dec']}) "
                    f"WHEN {self.f('full_match', x=t, re=self.lit_str(_DECIMAL_RE))} "
                    f"THEN {self.f('try_dec', x=t)} "
                    f"WHEN {self.f('full_match', x=t, re=self.lit_str('0[xX][0-9a-fA-F]+|0[bB][01]+'))} "
                    f"THEN CAST({self.f('try_hex', x=t)} AS {self.t['dec']}) END"
                ),
            )

        return self.let(s, body)

    def str_infinity(self, s: str) -> str:
        """-1/1 when JS Number(string) is beyond DECIMAL(38,12) (incl. Infinity), else 0."""

        def body(x: str) -> str:
            t = self.f("trim", x=x, chars=self.lit_str(_JS_SPACE))
            d = self.f("try_double", x=t)
            return (
                f"CASE WHEN {self.f('full_match', x=t, re=self.lit_str(_DECIMAL_RE))} "
                f"AND {self.f('try_dec', x=t)} IS NULL AND abs({d}) >= 1 "
                f"THEN sign({d}) ELSE 0 END"
            )

        return self.let(s, body)

    def str_float(self, s: str) -> str:
        """JS parseFloat(string): the leading number; NULL for NaN, Infinity or no fit."""
        prefix = self.f("extract", x=s, re=self.lit_str(f"^[{_JS_SPACE}]*({_DECIMAL_RE})"))
        return self.let(
            prefix, lambda p: f"CASE WHEN {p} = '' THEN NULL ELSE {self.f('try_dec', x=p)} END"
        )

    def number_of(self, kind: str, v, parse_float: bool = False) -> str:
        """JS Number() (or parseFloat) of a typed view, as DECIMAL; NULL is NaN."""
        dec = self.t["dec"]
        if kind == _NUM:
            return v
        if kind == _NULL:
            return "NULL" if parse_float else f"CAST(0 AS {dec})"
        if kind == _BOOL:
            return "NULL" if parse_float else f"CAST(CASE WHEN {v} THEN 1 ELSE 0 END AS {dec})"
        text = v[0] if kind == _LIST else v
        return self.str_float(text) if parse_float else self.str_number(text)

    def number(self, node: _Node, parse_float: bool = False) -> str:
        if node.kinds <= {_NUM, _NULL} and node.rep == _NUM and not parse_float:
            return node.sql if node.kinds == {_NUM} else f"coalesce({node.sql}, 0)"
        if node.kinds == {_NUM} and node.rep == _NUM:
            return node.sql
        return f"CAST({self.dispatch([node], lambda ks, vs: self.number_of(ks[0], vs[0], parse_float))} AS {self.t['dec']})"

    def format_num(self, v: str) -> str:
        """JavaScript String(number) of a DECIMAL(38,12), with exact digits (format_number)."""

        def body(p: str) -> str:
            plain = self.f("strip_zeros", x=p)
            text = self.t["str"]
            unsigned = self.f("ltrim", x=p, chars="'-'")
            sign = f"CASE WHEN {p} LIKE '-%' THEN '-' ELSE '' END"
            point = self.f("strpos", h=unsigned, n="'.'")
            int_len = f"({point} - 1)"
            # >= 1e21: all significant digits, point after the first, exponent from the length.
            big_digits = self.f("rtrim", x=f"replace({unsigned}, '.', '')", chars="'0'")
            big = (
                f"{sign} || left({big_digits}, 1) || CASE WHEN length({big_digits}) > 1 THEN "
                f"'.' || substr({big_digits}, 2) ELSE '' END || 'e+' || "
                f"CAST({int_len} - 1 AS {text})"
            )
            # < 1e-6: 0.000000ddd prints as d.dde-N.
            frac = f"substr({unsigned}, {point} + 1)"
            small_digits = self.f("rtrim", x=self.f("ltrim", x=frac, chars="'0'"), chars="'0'")
            frac_digits = self.f("ltrim", x=frac, chars="'0'")
            zeros = f"(length({frac}) - length({frac_digits}))"
            small = (
                f"{sign} || left({small_digits}, 1) || CASE WHEN length({small_digits}) > 1 "
                f"THEN '.' || substr({small_digits}, 2) ELSE '' END || 'e-' || "
                f"CAST({zeros} + 1 AS {text})"
            )
            return (
                f"CASE WHEN {int_len} > 21 THEN {big} "
                f"WHEN {unsigned} LIKE '0.000000%' AND {plain} <> '0' THEN {small} "
                f"ELSE {plain} END"
            )

        return self.let(self.f("to_str", x=v), body)

    def string_of(self, kind: str, v, null_text: str = "null") -> str:
        """JS String() of a typed view (null_text for null: '' inside cat and lists)."""
        if kind == _NUM:
            return self.format_num(v)
        if kind == _STR:
            return v
        if kind == _BOOL:
            return f"CASE WHEN {v} THEN 'true' ELSE 'false' END"
        if kind == _NULL:
            return self.lit_str(null_text)
        return v[0]

    def string(self, node: _Node, null_text: str = "null") -> str:
        if node.rep == _STR and node.kinds == {_STR}:
            return node.sql
        if node.rep == _STR and null_text == "":
            return f"coalesce({node.sql}, '')"
        return self.dispatch([node], lambda ks, vs: self.string_of(ks[0], vs[0], null_text))

    def join(self, items: tuple) -> str:
        # Array.join(","): null elements print as "", absent (conditional) elements not at all.
        if not items:
            return "''"
        parts = []
        for cond, item in items:
            text = self.string(item, null_text="")
            parts.append(text if cond is None else f"CASE WHEN {cond} THEN {text} END")
        if len(parts) == 1:
            return f"coalesce({parts[0]}, '')"
        return f"coalesce(concat_ws(',', {', '.join(parts)}), '')"

    def length(self, items: tuple) -> str:
        fixed = sum(1 for cond, _ in items if cond is None)
        terms = [str(fixed)] + [
            f"CASE WHEN {cond} THEN 1 ELSE 0 END" for cond, _ in items if cond is not None
        ]
        return "(" + " + ".join(terms) + ")"

    def as_rep(self, node: _Node, rep: str) -> str:
        """The node's value in representation `rep` (a branch of an if/and/or)."""
        if node.rep == rep:
            return node.sql
        if node.rep == _NULL or node.kinds == {_NULL}:
            return self.null_of(rep)
        if rep == "dyn":
            if node.rep == _NUM:
                return self.struct(n=node.sql)
            if node.rep == _STR:
                return self.struct(s=node.sql)
            if node.rep == _BOOL:
                return self.struct(b=node.sql)
            if node.rep == _LIST:
                return self.struct(
                    is_list="TRUE",
                    n=f"CAST({self.length(node.items)} AS {self.t['dec']})",
                    s=self.join(node.items),
                )
        raise AssertionError(f"cannot represent {node.rep} as {rep}")

    # ------------------------------------------------------------ the tree

    def compile(self, logic: object) -> _Node:
        if isinstance(logic, (list, tuple)):
            items = tuple((None, self.compile(x)) for x in logic)
            err = self.any_of([self.error_of(n) for _, n in items])
            return _Node(frozenset({_LIST}), _LIST, err=err, items=items)
        if isinstance(logic, dict) and len(logic) == 1:
            ((op, raw),) = logic.items()
            args = list(raw) if isinstance(raw, (list, tuple)) else [raw]
            if op not in SUPPORTED_OPERATORS:
                raise SqlCompileError(f"unsupported JSON Logic operator {op!r}")
            if not _reads_data(logic):
                folded = self.fold_constant(logic)
                if folded is not None:
                    return folded
            return getattr(self, "op_" + _OP_NAMES[op])(args)
        return self.literal(logic)

    def fold_constant(self, logic: object) -> _Node | None:
        # A subtree that reads no data is computed once, by the reference itself.
        try:
            value = evaluate(logic, {})
        except LogicError:
            return _Node(frozenset({_NULL}), _NULL, err="TRUE")
        if isinstance(value, Decimal) and not _representable(value):
            return None
        return self.literal(value)

    def literal(self, x: object) -> _Node:
        x = js_value(x)
        if x is None:
            return _Node(frozenset({_NULL}), _NULL)
        if isinstance(x, bool):
            return _Node(frozenset({_BOOL}), _BOOL, "TRUE" if x else "FALSE")
        if isinstance(x, Decimal):
            if not _representable(x):
                raise SqlCompileError(
                    f"number {x} does not fit DECIMAL(38,12) (at most 12 "
                    "decimal places and 26 integer digits)"
                )
            return _Node(frozenset({_NUM}), _NUM, self.lit_num(x))
        if isinstance(x, str):
            return _Node(frozenset({_STR}), _STR, self.lit_str(x))
        if isinstance(x, list):
            return self.compile(x)
        raise SqlCompileError(f"literal {x!r} (an object) cannot be compiled to SQL")

    def source(self, path: object) -> tuple[str, str]:
        parts = path.split(".") if isinstance(path, str) else []
        if len(parts) != 2 or parts[0] not in self.maps or not parts[1]:
            raise SqlCompileError(
                f"variable {path!r} cannot be compiled: meter logic reads "
                "'attributes.<name>' or 'dimensions.<name>'"
            )
        return parts[0], self.f("map_get", m=self.maps[parts[0]], k=self.lit_str(parts[1]))

    # ------------------------------------------------------------ data access

    def op_var(self, args: list) -> _Node:
        where, sql = self.source(args[0])
        rep = _NUM if where == "attributes" else _STR
        # The catalog stores no null values: a NULL map value is an absent key.
        value = _Node(frozenset({rep, _NULL}), rep, sql)
        if len(args) < 2:
            return value
        default = self.compile(args[1])  # evaluated (and may raise) even when unused
        present = value.kinds - {_NULL}
        kinds = present | default.kinds
        out_rep = rep if (default.kinds - {_NULL}) <= present and default.rep != _LIST else "dyn"
        if out_rep == rep:
            body = sql if default.rep == _NULL else f"coalesce({sql}, {default.sql})"
        else:
            body = (
                f"CASE WHEN {sql} IS NULL THEN {self.as_rep(default, 'dyn')} "
                f"ELSE {self.as_rep(value, 'dyn')} END"
            )
        node = _Node(kinds, out_rep, body, err=self.error_of(default))
        return self.fold(node) if _NULL not in kinds else node

    def op_missing(self, args: list) -> _Node:
        names = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        items = []
        for name in names:
            where, sql = self.source(name)
            cond = f"({sql} IS NULL)" if where == "attributes" else f"(coalesce({sql}, '') = '')"
            items.append((cond, self.literal(name)))
        return _Node(frozenset({_LIST}), _LIST, items=tuple(items))

    # ------------------------------------------------------------ control flow

    def chain(self, steps: list[tuple[_Node, bool, _Node]], last: _Node) -> _Node:
        """CASE WHEN truthy(c) = want THEN v ... ELSE last, with JsonLogic's lazy errors."""
        if not steps:
            return last
        results = [v for _, _, v in steps] + [last]
        kinds = frozenset().union(*(r.kinds for r in results))
        reps = {r.rep for r in results if r.kinds - {_NULL} and r.rep != _NULL}
        if kinds == {_NULL}:
            rep = _NULL
        elif len(reps) == 1 and reps <= {_NUM, _STR, _BOOL}:
            rep = next(iter(reps))
        else:
            rep = "dyn"
        value_whens, err_whens = [], []
        for cond, want, value in steps:
            test = self.truthy(cond) if want else f"NOT {self.truthy(cond)}"
            value_whens.append(f"WHEN {test} THEN {self.as_rep(value, rep)}")
            cerr, verr = self.error_of(cond), self.error_of(value)
            if cerr:
                err_whens.append(f"WHEN {cerr} THEN TRUE")
            err_whens.append(f"WHEN {test} THEN {verr or 'FALSE'}")
        last_err = self.error_of(last)
        if rep == _NULL:
            value_sql = "NULL"
        else:
            value_sql = "CASE " + " ".join(value_whens) + f" ELSE {self.as_rep(last, rep)} END"
        has_err = any(self.error_of(c) or self.error_of(v) for c, _, v in steps) or last_err
        err = None
        if has_err:
            err = "CASE " + " ".join(err_whens) + f" ELSE {last_err or 'FALSE'} END"
        return self.fold(_Node(kinds, rep, value_sql, err))

    def op_if(self, args: list) -> _Node:
        nodes = [self.compile(a) for a in args]
        steps = [(nodes[i], True, nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
        last = nodes[-1] if len(nodes) % 2 else _Node(frozenset({_NULL}), _NULL)
        return self.chain(steps, last)

    def and_or(self, args: list, is_and: bool) -> _Node:
        nodes = [self.compile(a) for a in args]
        if all(n.rep == _BOOL and n.kinds == {_BOOL} and self.error_of(n) is None for n in nodes):
            return _Node(
                frozenset({_BOOL}),
                _BOOL,
                "(" + (" AND " if is_and else " OR ").join(n.sql for n in nodes) + ")",
            )
        steps = [(n, not is_and, n) for n in nodes[:-1]]
        return self.chain(steps, nodes[-1])

    def op_and(self, args: list) -> _Node:
        return self.and_or(args, True)

    def op_or(self, args: list) -> _Node:
        return self.and_or(args, False)

    def op_not(self, args: list) -> _Node:
        a = self.compile(args[0])
        return self.guarded(frozenset({_BOOL}), _BOOL, f"(NOT {self.truthy(a)})", [a])

    def op_not_not(self, args: list) -> _Node:
        a = self.compile(args[0])
        return self.guarded(frozenset({_BOOL}), _BOOL, self.truthy(a), [a])

    # ------------------------------------------------------------ comparisons

    def strict_eq(self, a: _Node, b: _Node) -> str:
        def fn(ks, vs):
            if ks[0] != ks[1] or ks[0] == _LIST:
                return "FALSE"  # lists are equal only to themselves; a new list each time
            return "TRUE" if ks[0] == _NULL else f"(({vs[0]}) = ({vs[1]}))"

        return self.dispatch([a, b], fn)

    def loose_of(self, ka: str, va, kb: str, vb) -> str:
        """JS == of typed views (ECMA-262 IsLooselyEqual)."""
        if ka == kb:
            if ka == _LIST:
                return "FALSE"
            return "TRUE" if ka == _NULL else f"(({va}) = ({vb}))"
        if _NULL in (ka, kb):
            return "FALSE"
        if ka == _BOOL:
            return self.loose_of(_NUM, self.number_of(_BOOL, va), kb, vb)
        if kb == _BOOL:
            return self.loose_of(ka, va, _NUM, self.number_of(_BOOL, vb))
        if ka == _LIST:
            return self.loose_of(_STR, va[0], kb, vb)
        if kb == _LIST:
            return self.loose_of(ka, va, _STR, vb[0])
        num, text = (va, vb) if ka == _NUM else (vb, va)
        return f"coalesce(({self.str_number(text)}) = ({num}), FALSE)"

    def loose_eq(self, a: _Node, b: _Node) -> str:
        return self.dispatch([a, b], lambda ks, vs: self.loose_of(ks[0], vs[0], ks[1], vs[1]))

    def less_of(self, ka: str, va, kb: str, vb, or_equal: bool) -> str:
        """JS a < b (a <= b) of typed views: text order for two strings, else numbers."""
        op = "<=" if or_equal else "<"
        ka, va = (_STR, va[0]) if ka == _LIST else (ka, va)
        kb, vb = (_STR, vb[0]) if kb == _LIST else (kb, vb)
        if ka == kb == _STR:
            return f"(({va}) {op} ({vb}))"
        x, y = self.number_of(ka, va), self.number_of(kb, vb)
        # At most one side is text here; text may hold a number beyond DECIMAL (or Infinity).
        if _STR in (ka, kb):
            inf = self.str_infinity(va if ka == _STR else vb)
            beyond = f"{inf} < 0" if ka == _STR else f"{inf} > 0"
            return (
                f"(CASE WHEN {inf} <> 0 THEN {beyond} ELSE coalesce(({x}) {op} ({y}), FALSE) END)"
            )
        return f"(({x}) {op} ({y}))"

    def less(self, a: _Node, b: _Node, or_equal: bool) -> str:
        return self.dispatch(
            [a, b], lambda ks, vs: self.less_of(ks[0], vs[0], ks[1], vs[1], or_equal)
        )

    def comparison(self, args: list, make) -> _Node:
        nodes = [self.compile(a) for a in args]
        # Between plain numbers, = and < propagate SQL NULL (their coded error) by themselves.
        plain = all(n.rep == _NUM and n.kinds == {_NUM} for n in nodes)
        strict = tuple(nodes) if plain else ()
        return self.guarded(frozenset({_BOOL}), _BOOL, make(*nodes), nodes, strict)

    def op_eq(self, args):
        return self.comparison(args, self.loose_eq)

    def op_ne(self, args):
        return self.comparison(args, lambda a, b: f"(NOT {self.loose_eq(a, b)})")

    def op_seq(self, args):
        return self.comparison(args, self.strict_eq)

    def op_sne(self, args):
        return self.comparison(args, lambda a, b: f"(NOT {self.strict_eq(a, b)})")

    def between(self, args: list, or_equal: bool, flip: bool = False) -> _Node:
        def make(a, b, c=None):
            if flip:
                return self.less(b, a, or_equal)
            if c is None:
                return self.less(a, b, or_equal)
            return f"({self.less(a, b, or_equal)} AND {self.less(b, c, or_equal)})"

        return self.comparison(args, make)

    def op_lt(self, args):
        return self.between(args, False)

    def op_le(self, args):
        return self.between(args, True)

    def op_gt(self, args):
        return self.between(args, False, flip=True)

    def op_ge(self, args):
        return self.between(args, True, flip=True)

    def op_in(self, args: list) -> _Node:
        a, b = self.compile(args[0]), self.compile(args[1])

        def fn(ks, vs):
            if ks[0] == _STR:
                # String.indexOf: the left side as text; an empty haystack gives false.
                return f"(({vs[0]}) <> '' AND {self.f('contains', h=vs[0], n=self.string(a))})"
            if ks[0] == _LIST:
                if vs[0][2] is None:
                    raise SqlCompileError(
                        "'in' over a list computed by if/and/or cannot be "
                        "compiled; write the list (or 'missing') directly"
                    )
                tests = []
                for cond, item in vs[0][2]:
                    eq = self.strict_eq(a, item)  # Array.indexOf compares with ===
                    tests.append(eq if cond is None else f"({cond} AND {eq})")
                return "(" + " OR ".join(tests) + ")" if tests else "FALSE"
            return "FALSE"

        return self.guarded(frozenset({_BOOL}), _BOOL, self.dispatch([b], fn), [a, b])

    # ------------------------------------------------------------ arithmetic and text

    def arithmetic(self, nodes: list[_Node], body: str) -> _Node:
        strict = tuple(n for n in nodes if n.rep == _NUM and n.kinds == {_NUM})
        return self.guarded(frozenset({_NUM}), _NUM, body, nodes, strict, body_raises=True)

    def op_add(self, args):
        nodes = [self.compile(a) for a in args]
        terms = [self.number(n, parse_float=True) for n in nodes]
        body = terms[0] if len(terms) == 1 else self.f("try", x=" + ".join(f"({t})" for t in terms))
        return self.arithmetic(nodes, body)

    def op_sub(self, args):
        nodes = [self.compile(a) for a in args]
        terms = [self.number(n) for n in nodes]
        body = (
            f"(-({terms[0]}))"
            if len(terms) == 1
            else self.f("try", x=f"({terms[0]}) - ({terms[1]})")
        )
        return self.arithmetic(nodes, body)

    def multiply(self, x: str, y: str) -> str:
        # Exact to 12 places, rounded half away from zero (the dialect's "mul").
        return self.let(
            x, lambda x: self.let(y, lambda y: self.f("try", x=self.f("mul", x=x, y=y)))
        )

    def op_mul(self, args):
        nodes = [self.compile(a) for a in args]
        terms = [self.number(n, parse_float=True) for n in nodes]
        body = terms[0]
        for term in terms[1:]:
            body = self.multiply(body, term)
        return self.arithmetic(nodes, body)

    def scaled(self, x: str) -> str:
        # x * 10^12 as an exact integer (casting x * 10^12 as a DECIMAL would overflow).
        i = self.t["int"]
        return f"(CAST({self.f('trunc', x=x)} AS {i}) * {_TEN12} + CAST((({x}) % 1) * {_TEN12} AS {i}))"

    def divide(self, x: str, y: str) -> str:
        # Long division of the scaled integers: integer part, then 12 more digits, then round
        # half away from zero on the remainder. Exact while |divisor| < 1.7e14.
        def body(p: str) -> str:
            a, b = self.f("field", x=p, f="a"), self.f("field", x=p, f="b")
            r1 = f"(({a}) % ({b}) * {_TEN12})"
            q = (
                f"({self.f('idiv', a=a, b=b)} * {_TEN12} + {self.f('idiv', a=r1, b=b)} + "
                f"CASE WHEN 2 * abs({r1} % ({b})) >= abs({b}) THEN "
                f"CASE WHEN ({a} < 0) <> ({b} < 0) THEN -1 ELSE 1 END ELSE 0 END)"
            )
            return self.f("from_scaled", n=q)

        pair = self.f("pair", a=self.scaled(x), b=self.scaled(f"nullif({y}, 0)"))
        name = f"_th{next(self.names)}"
        return self.f("try", x=self.f("let", value=pair, name=name, body=body(name)))

    def op_div(self, args):
        nodes = [self.compile(a) for a in args]
        x, y = (self.number(n) for n in nodes)
        return self.arithmetic(
            nodes, self.let(x, lambda x: self.let(y, lambda y: self.divide(x, y)))
        )

    def op_mod(self, args):
        nodes = [self.compile(a) for a in args]
        x, y = (self.number(n) for n in nodes)
        return self.arithmetic(nodes, self.f("try", x=f"({x}) % nullif({y}, 0)"))

    def extreme(self, args: list, fn: str) -> _Node:
        nodes = [self.compile(a) for a in args]
        terms = [self.number(n) for n in nodes]
        if len(terms) == 1:
            return self.arithmetic(nodes, terms[0])
        # greatest/least skip NULLs, but a NaN operand is an error.
        nan = self.any_of(
            [
                f"({t}) IS NULL"
                for t, n in zip(terms, nodes, strict=True)
                if not (
                    n.rep == _NUM
                    and n.kinds <= {_NUM, _NULL}
                    and (_NULL in n.kinds or not n.null_err)
                )
            ]
        )
        body = f"{fn}({', '.join(terms)})"
        if nan:
            body = f"CASE WHEN {nan} THEN NULL ELSE {body} END"
        return self.arithmetic(nodes, body)

    def op_min(self, args):
        return self.extreme(args, "least")

    def op_max(self, args):
        return self.extreme(args, "greatest")

    def op_cat(self, args):
        nodes = [self.compile(a) for a in args]
        if not nodes:
            return _Node(frozenset({_STR}), _STR, "''")
        parts = [self.string(n, null_text="") for n in nodes]
        body = parts[0] if len(parts) == 1 else self.f("concat", args=", ".join(parts))
        return self.guarded(frozenset({_STR}), _STR, body, nodes)


_OP_NAMES = {
    "var": "var",
    "missing": "missing",
    "if": "if",
    "and": "and",
    "or": "or",
    "!": "not",
    "!!": "not_not",
    "==": "eq",
    "!=": "ne",
    "===": "seq",
    "!==": "sne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "in": "in",
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "%": "mod",
    "min": "min",
    "max": "max",
    "cat": "cat",
}


def _representable(d: Decimal) -> bool:
    if not d.is_finite() or abs(d) >= _LIMIT:
        return False
    _, digits, exponent = d.as_tuple()
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    # Decimal.quantize would round at the context's 28 digits: count places by hand.
    return d == 0 or -(exponent + trailing_zeros) <= SCALE


def _reads_data(logic: object) -> bool:
    if isinstance(logic, (list, tuple)):
        return any(_reads_data(x) for x in logic)
    if isinstance(logic, dict) and len(logic) == 1:
        ((op, raw),) = logic.items()
        return op in ("var", "missing") or _reads_data(raw)
    return False


def _compile(
    logic: object, attributes_sql: str, dimensions_sql: str, dialect: str
) -> tuple[_Compiler, _Node]:
    problems = check_logic(logic)
    if problems:
        raise SqlCompileError("; ".join(problems))
    compiler = _Compiler(attributes_sql, dimensions_sql, dialect)
    return compiler, compiler.compile(logic)


def _unless_raised(c: _Compiler, node: _Node, sql: str, when_raised: str) -> str:
    """`sql`, or `when_raised` on rows where evaluating the logic raises (the reference's
    LogicError): a filter that raises does not match, a value that raises is null."""
    err = c.error_of(node)
    return sql if err is None else f"(CASE WHEN {err} THEN {when_raised} ELSE {sql} END)"


def compile_filter(
    logic: object,
    attributes_sql: str = "attributes",
    dimensions_sql: str = "dimensions",
    dialect: str = "duckdb",
) -> str:
    """SQL boolean: TRUE exactly when the logic is truthy for the row and raises no error."""
    c, node = _compile(logic, attributes_sql, dimensions_sql, dialect)
    return _unless_raised(c, node, f"coalesce({c.truthy(node)}, FALSE)", "FALSE")


def compile_value(
    logic: object,
    attributes_sql: str = "attributes",
    dimensions_sql: str = "dimensions",
    dialect: str = "duckdb",
) -> str:
    """SQL DECIMAL(38,12): the logic's result as a number; NULL when it raises or is no number."""
    c, node = _compile(logic, attributes_sql, dimensions_sql, dialect)

    def fn(ks, vs):
        if ks[0] == _NUM:
            return vs[0]
        if ks[0] == _STR:
            # A numeric string counts (JS Number()); a blank one is no number.
            return c.let(
                vs[0],
                lambda s: (
                    f"CASE WHEN {c.f('trim', x=s, chars=c.lit_str(_JS_SPACE))} "
                    f"<> '' THEN {c.str_number(s)} END"
                ),
            )
        return "NULL"

    return _unless_raised(c, node, f"CAST({c.dispatch([node], fn)} AS {c.t['dec']})", "NULL")


def compile_key(
    logic: object,
    attributes_sql: str = "attributes",
    dimensions_sql: str = "dimensions",
    dialect: str = "duckdb",
) -> str:
    """SQL VARCHAR naming the logic's result for UNIQUE_COUNT: a number by its value, a string
    as itself, a boolean as true/false, each tagged by type (5 and "5" are distinct values,
    as in a JavaScript Set); NULL when it raises, is null or is a list."""
    c, node = _compile(logic, attributes_sql, dimensions_sql, dialect)
    text = c.t["str"]

    def fn(ks, vs):
        if ks[0] == _NUM:
            # One DECIMAL(38,12) text per value: 5 and 5.0 are the same number.
            number = f"CAST({vs[0]} AS {c.t['dec']})"
            return f"('n:' || {c.f('to_str', x=number)})"
        if ks[0] == _STR:
            return f"('s:' || {vs[0]})"
        if ks[0] == _BOOL:
            return f"(CASE WHEN {vs[0]} THEN 'b:true' ELSE 'b:false' END)"
        return f"CAST(NULL AS {text})"

    return _unless_raised(c, node, c.dispatch([node], fn), "NULL")

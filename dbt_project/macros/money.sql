{#-
    Exact money in SQL (SEMANTICS 17 and "DuckDB traps").

    Every money amount and quantity is a DECIMAL(38,12). Engines do not multiply or divide
    those exactly: DuckDB's DECIMAL(38,12) × DECIMAL(38,12) is DECIMAL(38,24) (overflows past
    10^14) and DECIMAL / DECIMAL is a DOUBLE (ceil(2051.021 / 0.001) = 2051022); Spark drops
    products and quotients to 6 places (SPARK-29123). So the arithmetic here runs on
    *scaled integers*: x × 10^12 as a 128-bit integer (DuckDB HUGEINT, Spark DECIMAL(38,0),
    both exact below 10^38 and raising (or, non-ANSI Spark, null) on overflow, never
    silently wrong). Quotients are long divisions of those integers, so no value ever goes
    through a DOUBLE.

    The engine-specific primitives are the money_* macros below the line, each behind
    adapter.dispatch (default__ = DuckDB, spark__ = Spark SQL); the algorithms above the line
    are written once, on top of them.

    Limits (all raise rather than return a wrong number):
      exact_multiply  |a × b| < 10^26, result rounded half away from zero at the 12th place.
      packages        ceil(units / package_size) exact; the count < 10^26 (Spark: < 10^32 as
                      an intermediate quotient).
      prorate         amount × period_seconds / cycle_seconds, rounded half away from zero at
                      the 12th place; exact for every DECIMAL(38,12) amount (seconds < 10^12).
      round_money     half away from zero to minor_units (0..12) places: USD 2, JPY 0, KWD 3.
      apportion       amount × part / whole truncated toward zero at the 12th place (the
                      result must be below 10^26). Exact when whole-unit weights have
                      |amount × part| < 10^26 or any weights have |amount × part| < 10^14 (a
                      one-division fast path), and otherwise while |whole| < 10^13 units (a
                      long division in limbs). Only when both fail (|whole| ≥ 10^13 units and a
                      huge amount) are part and whole first cut to 0.1 unit, so the share is
                      off by at most |amount| × 10^-14; the callers' remainder rule keeps every
                      sum exact anyway. (DOUBLE only picks the path, never computes a value.)
    Spark: the same algorithms; conversions back to DECIMAL(38,12) go through an exact decimal
    string (Spark's decimal × decimal and decimal + decimal lose places near 38 digits).
-#}

{#- ------------------------------------------------------------------ algorithms -#}

{#- a × b, both DECIMAL(38,12) (or castable), as DECIMAL(38,12) rounded half away from zero.
    With A = Ia + Fa/10^12 and B = Ib + Fb/10^12 (integer and fractional limbs, each with the
    sign of its number), a × b × 10^12 = Ia·Ib·10^12 + Ia·Fb + Fa·Ib + Fa·Fb / 10^12. Only the
    last term has more than 12 places, and every term has the product's sign, so rounding it
    half away from zero rounds the sum. Each term is below 10^38 when |a × b| < 10^26. -#}
{% macro exact_multiply(a, b) -%}
    {%- set ia = money_int_part(a) -%}
    {%- set fa = money_frac_units(a) -%}
    {%- set ib = money_int_part(b) -%}
    {%- set fb = money_frac_units(b) -%}
    {{ money_from_scaled(
        "(" ~ ia ~ ") * (" ~ ib ~ ") * " ~ money_int('1000000000000')
        ~ " + (" ~ ia ~ ") * (" ~ fb ~ ") + (" ~ fa ~ ") * (" ~ ib ~ ") + "
        ~ money_round_div("(" ~ fa ~ ") * (" ~ fb ~ ")", money_int('1000000000000'))
    ) }}
{%- endmacro %}

{#- ceil(units / package_size) as DECIMAL(38,12) (a whole number), exactly: the scaled
    integers' quotient, plus one when a (positive) remainder is left. -#}
{% macro packages(units, package_size) -%}
    {%- set u = money_to_scaled(units) -%}
    {%- set p = money_to_scaled(package_size) -%}
    cast(cast({{ money_idiv(u, p) }} + case when ({{ u }}) % ({{ p }}) > 0 then 1 else 0 end
              as decimal(38, 0)) as {{ exact_decimal() }})
{%- endmacro %}

{#- amount × period_seconds / cycle_seconds, rounded half away from zero at the 12th place.
    Long division: with A = amount × 10^12 = q·cycle + r, A × period / cycle =
    q·period + r·period / cycle, and r·period < cycle² stays small. -#}
{% macro prorate(amount, period_seconds, cycle_seconds) -%}
    {%- set a = money_to_scaled(amount) -%}
    {%- set ps = "cast(" ~ period_seconds ~ " as " ~ money_int_type() ~ ")" -%}
    {%- set cs = "cast(" ~ cycle_seconds ~ " as " ~ money_int_type() ~ ")" -%}
    {{ money_from_scaled(
        money_idiv(a, cs) ~ " * " ~ ps ~ " + "
        ~ money_round_div("((" ~ a ~ ") % " ~ cs ~ ") * " ~ ps, cs)
    ) }}
{%- endmacro %}

{#- x rounded half up (negative amounts away from zero) to minor_units decimal places
    (ISO 4217: USD 2, JPY 0, KWD 3), as DECIMAL(38,12). minor_units may be a column
    (DuckDB's round() wants a constant there). -#}
{% macro round_money(x, minor_units) -%}
    {%- set s = money_to_scaled(x) -%}
    {%- set d = money_pow10("12 - (" ~ minor_units ~ ")") -%}
    {{ money_from_scaled(money_round_div(s, d) ~ " * " ~ d) }}
{%- endmacro %}

{#- amount × part / whole, truncated toward zero at the 12th place; 0 when whole is 0.
    On the absolute scaled integers a, p, w: with a = qa·w + ra and p = qp·w + rp,
    a·p/w = qa·qp·w + qa·rp + ra·qp + ra·rp/w, and ra, rp < w (the general path; the
    common cases take a one-division fast path, below). The last term is a long
    division in two 13-digit limbs of rp (rp = p1·10^13 + p0): every product stays below
    10^38 while w < 10^25 (|whole| < 10^13). A larger whole (and its part) is first cut by
    10^13 scaled units (see the limits above). -#}
{% macro apportion(amount, part, whole) -%}
    {%- set big = money_int('10000000000000000000000000') -%}
    {%- set t13 = money_int('10000000000000') -%}
    {%- set a = "abs(" ~ money_to_scaled(amount) ~ ")" -%}
    {%- set w_full = "abs(" ~ money_to_scaled(whole) ~ ")" -%}
    {%- set p_full = "abs(" ~ money_to_scaled(part) ~ ")" -%}
    {%- set w = "(case when " ~ w_full ~ " >= " ~ big ~ " then " ~ money_idiv(w_full, t13) ~ " else " ~ w_full ~ " end)" -%}
    {%- set p = "(case when " ~ w_full ~ " >= " ~ big ~ " then " ~ money_idiv(p_full, t13) ~ " else " ~ p_full ~ " end)" -%}
    {%- set qa = money_idiv(a, w) -%}
    {%- set ra = "((" ~ a ~ ") % " ~ w ~ ")" -%}
    {%- set qp = money_idiv(p, w) -%}
    {%- set rp = "((" ~ p ~ ") % " ~ w ~ ")" -%}
    {%- set p1 = money_idiv(rp, t13) -%}
    {%- set p0 = "(" ~ rp ~ " % " ~ t13 ~ ")" -%}
    {%- set x1 = "(" ~ ra ~ " * " ~ p1 ~ ")" -%}
    {%- set x2 = "((" ~ x1 ~ " % " ~ w ~ ") * " ~ t13 ~ ")" -%}
    {%- set x3 = "(" ~ ra ~ " * " ~ p0 ~ ")" -%}
    case
        when ({{ whole }}) = 0 or ({{ part }}) = 0 or ({{ amount }}) = 0
            then cast(0 as {{ exact_decimal() }})
        {#- Fast paths, taken by almost every row: one product and one division when the
            product of the scaled integers stays below 10^38 (whole-unit weights: |amount ×
            part| < 10^26; any weights: < 10^14). The bound is checked in DOUBLE, which only
            chooses the path (with a 1.7× margin); every path is exact. -#}
        when ({{ part }}) % 1 = 0 and ({{ whole }}) % 1 = 0
            and abs(cast({{ amount }} as double) * cast({{ part }} as double)) < 1e26
            then {{ money_from_scaled(money_idiv(
                money_to_scaled(amount) ~ " * " ~ money_int_part(part), money_int_part(whole))) }}
        when abs(cast({{ amount }} as double) * cast({{ part }} as double)) < 1e14
            then {{ money_from_scaled(money_idiv(
                money_to_scaled(amount) ~ " * " ~ money_to_scaled(part), money_to_scaled(whole))) }}
        else {{ money_from_scaled(
            "(case when (((" ~ money_to_scaled(amount) ~ ") < 0) <> ((" ~ money_to_scaled(part)
            ~ ") < 0)) <> ((" ~ money_to_scaled(whole) ~ ") < 0) then -1 else 1 end) * ("
            ~ qa ~ " * " ~ qp ~ " * " ~ w ~ " + " ~ qa ~ " * " ~ rp ~ " + " ~ ra ~ " * " ~ qp
            ~ " + " ~ money_idiv(x1, w) ~ " * " ~ t13
            ~ " + " ~ money_idiv(x2, w) ~ " + " ~ money_idiv(x3, w)
            ~ " + " ~ money_idiv("(" ~ x2 ~ " % " ~ w ~ ") + (" ~ x3 ~ " % " ~ w ~ ")", w) ~ ")"
        ) }}
    end
{%- endmacro %}

{#- n / d rounded half away from zero, on integers. -#}
{% macro money_round_div(n, d) -%}
    {{ return(adapter.dispatch('money_round_div', 'tallyhouse')(n, d)) }}
{%- endmacro %}
{#- Spark: n and d bound once (see spark__money_idiv). -#}
{% macro spark__money_round_div(n, d) -%}
    element_at(transform(array(named_struct('n', cast({{ n }} as decimal(38, 0)), 'd', cast({{ d }} as decimal(38, 0)))),
        money_r -> {{ default__money_round_div('money_r.n', 'money_r.d') }}), 1)
{%- endmacro %}
{% macro default__money_round_div(n, d) -%}
    ({{ money_idiv(n, d) }} + case
        when 2 * abs(({{ n }}) % ({{ d }})) >= abs({{ d }})
            then case when (({{ n }}) < 0) <> (({{ d }}) < 0) then -1 else 1 end
        else 0
    end)
{%- endmacro %}

{#- 10^k for an integer expression k in 0..12, as the scaled-integer type. -#}
{% macro money_pow10(k) -%}
    (case {{ k }}
    {%- for i in range(13) %} when {{ i }} then {{ money_int('1' ~ ('0' * i)) }}{% endfor %}
    end)
{%- endmacro %}

{#- ---------------------------------------------------------- engine primitives -#}

{#- The scaled-integer type: exact integers below 10^38. -#}
{% macro money_int_type() -%}
    {{ return(adapter.dispatch('money_int_type', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__money_int_type() -%}hugeint{%- endmacro %}
{% macro spark__money_int_type() -%}decimal(38, 0){%- endmacro %}

{#- An integer literal (digits) of the scaled-integer type. -#}
{% macro money_int(digits) -%}
    cast({{ digits }} as {{ money_int_type() }})
{%- endmacro %}

{#- Integer division truncated toward zero. -#}
{% macro money_idiv(a, b) -%}
    {{ return(adapter.dispatch('money_idiv', 'tallyhouse')(a, b)) }}
{%- endmacro %}
{% macro default__money_idiv(a, b) -%}
    (({{ a }}) // ({{ b }}))
{%- endmacro %}
{#- Spark's `div` returns a BIGINT; a DECIMAL(38,0) quotient of the exact multiple is exact
    (Spark types it DECIMAL(38,6): any integer quotient below 10^32). -#}
{#- Spark runs with spark.sql.decimalOperations.allowPrecisionLoss=false (sums and products
    keep their scale or overflow to NULL, never round). A decimal quotient then has
    38 - f(divisor precision) integer digits, so the divisor is cast to the narrowest type
    that holds it: < 10^13 gives quotients below 10^32, < 10^18 below 10^29, anything else
    below 10^20, and each is then above any quotient of a 38-digit numerator by that divisor
    (except a divisor < 10^6 with a quotient past 10^32, as before).
    a and b are bound once through a one-element lambda: Spark has no common-subexpression
    elimination in its analyzer, and the money algorithms nest divisions, so repeating the
    operands textually would grow the SQL exponentially. -#}
{% macro spark__money_idiv(a, b) -%}
    element_at(transform(array(named_struct('a', cast({{ a }} as decimal(38, 0)), 'b', cast({{ b }} as decimal(38, 0)))),
        money_q -> cast(case
            when abs(money_q.b) < cast(10000000000000 as decimal(38, 0))
                then (money_q.a - money_q.a % money_q.b) / cast(money_q.b as decimal(13, 0))
            when abs(money_q.b) < cast(1000000000000000000 as decimal(38, 0))
                then (money_q.a - money_q.a % money_q.b) / cast(money_q.b as decimal(18, 0))
            else (money_q.a - money_q.a % money_q.b) / money_q.b
        end as decimal(38, 0))), 1)
{%- endmacro %}

{#- The integer part of a decimal (toward zero), as the scaled-integer type. -#}
{% macro money_int_part(x) -%}
    {{ return(adapter.dispatch('money_int_part', 'tallyhouse')(x)) }}
{%- endmacro %}
{% macro default__money_int_part(x) -%}
    cast(trunc(cast({{ x }} as {{ exact_decimal() }})) as hugeint)
{%- endmacro %}
{% macro spark__money_int_part(x) -%}
    cast(cast({{ x }} as decimal(38, 12)) - cast({{ x }} as decimal(38, 12)) % 1 as decimal(38, 0))
{%- endmacro %}

{#- The fractional part of a decimal in units of 10^-12 (|f| < 10^12, the sign of x). -#}
{% macro money_frac_units(x) -%}
    {{ return(adapter.dispatch('money_frac_units', 'tallyhouse')(x)) }}
{%- endmacro %}
{% macro default__money_frac_units(x) -%}
    cast((cast({{ x }} as {{ exact_decimal() }}) % 1) * 1000000000000 as hugeint)
{%- endmacro %}
{% macro spark__money_frac_units(x) -%}
    cast((cast({{ x }} as decimal(38, 12)) % 1) * cast(1000000000000 as decimal(13, 0)) as decimal(38, 0))
{%- endmacro %}

{#- x × 10^12 as a scaled integer (exact: x has 12 decimal places). -#}
{% macro money_to_scaled(x) -%}
    ({{ money_int_part(x) }} * {{ money_int('1000000000000') }} + {{ money_frac_units(x) }})
{%- endmacro %}

{#- A scaled integer back to DECIMAL(38,12). -#}
{% macro money_from_scaled(n) -%}
    {{ return(adapter.dispatch('money_from_scaled', 'tallyhouse')(n)) }}
{%- endmacro %}
{% macro default__money_from_scaled(n) -%}
    cast(cast({{ n }} as decimal(38, 0)) * cast('0.000000000001' as decimal(13, 12)) as {{ exact_decimal() }})
{%- endmacro %}
{#- Spark: decimal(38,0) × 10^-12 would fall to 6 places; an exact decimal string does not.
    A decimal(38,0) prints as plain digits, never in exponent notation. -#}
{% macro spark__money_from_scaled(n) -%}
    element_at(transform(array(cast({{ n }} as decimal(38, 0))), money_n -> cast(concat(
        case when money_n < 0 then '-' else '' end,
        cast(cast((abs(money_n) - abs(money_n) % cast(1000000000000 as decimal(38, 0)))
                  / cast(1000000000000 as decimal(13, 0)) as decimal(38, 0)) as string),
        '.',
        lpad(cast(cast(abs(money_n) % cast(1000000000000 as decimal(38, 0)) as decimal(38, 0)) as string), 12, '0')
    ) as decimal(38, 12))), 1)
{%- endmacro %}

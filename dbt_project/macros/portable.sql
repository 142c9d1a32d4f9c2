{#- Engine-specific functions live here, behind adapter.dispatch, so models stay portable
    (ARCHITECTURE, scale-out path). default__ is DuckDB's implementation. -#}

{#- The local wall-clock timestamp of a UTC instant in an IANA time zone. -#}
{% macro to_local_timestamp(ts, tz) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'tallyhouse')(ts, tz)) }}
{%- endmacro %}
{% macro default__to_local_timestamp(ts, tz) -%}
    timezone({{ tz }}, {{ ts }})
{%- endmacro %}
{% macro spark__to_local_timestamp(ts, tz) -%}
    from_utc_timestamp({{ ts }}, {{ tz }})
{%- endmacro %}

{#- The keys of a map column, as an array. -#}
{% macro map_key_list(map_column) -%}
    {{ return(adapter.dispatch('map_key_list', 'tallyhouse')(map_column)) }}
{%- endmacro %}
{% macro default__map_key_list(map_column) -%}
    map_keys({{ map_column }})
{%- endmacro %}

{#- Keys of map_column not among the strings of array_column, as an array. -#}
{% macro keys_not_in(map_column, array_column) -%}
    {{ return(adapter.dispatch('keys_not_in', 'tallyhouse')(map_column, array_column)) }}
{%- endmacro %}
{% macro default__keys_not_in(map_column, array_column) -%}
    list_filter(map_keys({{ map_column }}), lambda k: not list_contains({{ array_column }}, k))
{%- endmacro %}
{% macro spark__keys_not_in(map_column, array_column) -%}
    array_except(map_keys({{ map_column }}), {{ array_column }})
{%- endmacro %}

{#- Written after `as` of a CTE that several branches read, so each branch scans the table with
    its own filter: DuckDB would otherwise materialize the CTE (every column of every row,
    spilled at scale) and scan that copy once per branch. Spark inlines CTEs anyway. -#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__inlined() -%}
    not materialized
{%- endmacro %}
{% macro spark__inlined() -%}
{%- endmacro %}

{#- An empty array of strings. -#}
{% macro empty_string_array() -%}
    {{ return(adapter.dispatch('empty_string_array', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__empty_string_array() -%}
    []
{%- endmacro %}
{% macro spark__empty_string_array() -%}
    cast(array() as array<string>)
{%- endmacro %}

{#- Collect the values of a group into an array. -#}
{% macro array_of(expression) -%}
    {{ return(adapter.dispatch('array_of', 'tallyhouse')(expression)) }}
{%- endmacro %}
{% macro default__array_of(expression) -%}
    list({{ expression }})
{%- endmacro %}
{% macro spark__array_of(expression) -%}
    collect_list({{ expression }})
{%- endmacro %}

{#- Number of elements of an array. -#}
{% macro array_size(array_column) -%}
    {{ return(adapter.dispatch('array_size', 'tallyhouse')(array_column)) }}
{%- endmacro %}
{% macro default__array_size(array_column) -%}
    len({{ array_column }})
{%- endmacro %}
{% macro spark__array_size(array_column) -%}
    size({{ array_column }})
{%- endmacro %}

{#- Element i (1-based) of an array. -#}
{% macro array_element(array_column, i) -%}
    {{ return(adapter.dispatch('array_element', 'tallyhouse')(array_column, i)) }}
{%- endmacro %}
{% macro default__array_element(array_column, i) -%}
    {{ array_column }}[{{ i }}]
{%- endmacro %}
{% macro spark__array_element(array_column, i) -%}
    element_at({{ array_column }}, {{ i }})
{%- endmacro %}

{#- The run's clock (TALLYHOUSE_AS_OF, set by the CLI and the Dagster asset), UTC. -#}
{% macro as_of() -%}
    {{ return(adapter.dispatch('as_of', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__as_of() -%}
    cast('{{ run_clock() }}' as timestamptz)
{%- endmacro %}
{% macro spark__as_of() -%}
    to_timestamp('{{ run_clock() }}')
{%- endmacro %}
{#- Read when the model runs, never while dbt parses it: dbt records an env_var read at parse
    time and parses the model again when its value changes, which the clock does every night
    (~1 s of the night's first build). Parsing only needs the model's refs. -#}
{% macro run_clock() -%}
    {%- if execute -%}
        {{- env_var("TALLYHOUSE_AS_OF", run_started_at.isoformat()) -}}
    {%- else -%}
        {{- run_started_at.isoformat() -}}
    {%- endif -%}
{%- endmacro %}

{#- Whole seconds since the Unix epoch of a timestamp with time zone. -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'tallyhouse')(ts)) }}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}
    cast(epoch({{ ts }}) as bigint)
{%- endmacro %}
{% macro spark__epoch_seconds(ts) -%}
    unix_timestamp({{ ts }})
{%- endmacro %}

{#- Money and quantities until the one rounding step: DECIMAL(38, 12) on every engine
    (dbt.type_numeric() is numeric(28,6) on some adapters: too coarse). -#}
{% macro exact_decimal() -%}
    decimal(38, 12)
{%- endmacro %}

{#- Aggregate (key, value) pairs of a group into a map. -#}
{% macro map_of(key, value) -%}
    {{ return(adapter.dispatch('map_of', 'tallyhouse')(key, value)) }}
{%- endmacro %}
{#- Sorted after aggregating: an ordered aggregate (`list(... order by ...)`) sorts every
    input row (at 10M events, 28M meter matches: 39 s for the pipeline log's two lists, 13.5 s
    for one list sorted after). Keys are unique in a group, so the structs sort by key. -#}
{% macro default__map_of(key, value) -%}
    map_from_entries(list_sort(list({'key': {{ key }}, 'value': {{ value }}})))
{%- endmacro %}
{% macro spark__map_of(key, value) -%}
    map_from_entries(array_sort(collect_list(struct({{ key }}, {{ value }}))))
{%- endmacro %}

{#- Collect the distinct values of a group into a sorted array. -#}
{% macro sorted_array_of(expression) -%}
    {{ return(adapter.dispatch('sorted_array_of', 'tallyhouse')(expression)) }}
{%- endmacro %}
{% macro default__sorted_array_of(expression) -%}
    list_sort(list(distinct {{ expression }}))
{%- endmacro %}
{% macro spark__sorted_array_of(expression) -%}
    array_sort(collect_set({{ expression }}))
{%- endmacro %}

{#- The materialization of a mart cheap enough to compute where it is read (a pass-through
    of a stored table, a filter): a view on DuckDB, so a growing table is not copied inside
    the warehouse every night (the serving snapshot copies it once); a table on Spark, where
    the Python side reads Spark's tables as Parquet files, which a view has not. A config
    value, read when dbt parses: target, not dispatch. -#}
{% macro view_unless_spark() -%}
    {{ return('table' if target.type == 'spark' else 'view') }}
{%- endmacro %}

{#- Models built in batches: the two whose work grows with every meter match of the night
    (int_event_revenue_attributions, fct_event_pipeline_log). Built in one statement, their
    joins, windows and aggregates over 100M events passed 43 GB of DuckDB's temp folder;
    each batch holds ~matches_per_batch matches, so what one statement holds is bounded by
    the batch, not the night (docs/benchmark.md).

    A model opts in with config(built_in_batches=true) and a filter in_batch(key) on each
    input, where key keeps together what one row of the model needs (an invoice's lines and
    events; a record's matches and attributions). Batch k of n holds the keys whose hash is
    k modulo n; the batches partition the rows, so the table is the same whatever n is. -#}

{#- True for the rows of the batch being built; true for every row on Spark, when no batch is
    set (the compiled SQL run by hand), and rendered as `true` when the model is built in one
    batch (the hash test makes DuckDB estimate 2 rows for every scan it filters). Cast to
    UBIGINT, hash()'s type: in HUGEINT arithmetic the test cost 10x the scan (4.1 s against
    0.3 s over 28M meter matches). -#}
{% macro in_batch(key) -%}
    {{ return(adapter.dispatch('in_batch', 'tallyhouse')(key)) }}
{%- endmacro %}
{% macro default__in_batch(key) -%}
    {%- if build_batches() > 1 -%}
    hash({{ key }}) % cast(coalesce(getvariable('tallyhouse_batches'), 1) as ubigint)
        = cast(coalesce(getvariable('tallyhouse_batch'), 0) as ubigint)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
{% macro spark__in_batch(key) -%}
    true
{%- endmacro %}

{#- How many batches the model is built in: one per matches_per_batch meter matches (a dbt
    var, dbt_project.yml). One while the matches table does not exist yet (`dbt compile` on
    a fresh warehouse). -#}
{% macro build_batches() -%}
    {%- if not config.get('built_in_batches') or not execute -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set matches_table = load_relation(ref('int_event_meter_matches')) -%}
    {%- if matches_table is none -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set matches = run_query('select count(*) from ' ~ matches_table).columns[0].values()[0] -%}
    {%- set per_batch = var('matches_per_batch') | int -%}
    {{ return([1, (matches + per_batch - 1) // per_batch] | max) }}
{%- endmacro %}

{#- dbt-duckdb's create-table-as, once per batch: the first batch creates the table, the
    others insert into it. The incremental materialization builds its temp table with it too,
    so a night's open rows are built in batches as well. -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if language != 'sql' or not config.get('built_in_batches') -%}
        {{ return(dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by)) }}
    {%- endif -%}
    {%- set batches = build_batches() -%}
    {%- for batch in range(batches) %}
    set variable tallyhouse_batches = {{ batches }};
    set variable tallyhouse_batch = {{ batch }};
    {% if loop.first -%}
    {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- else -%}
    insert into {{ relation.include(database=(not temporary), schema=(not temporary)) }} (
        {{ compiled_code }}
    );
    {%- endif %}
    {%- endfor %}
    reset variable tallyhouse_batches;
    reset variable tallyhouse_batch;
{%- endmacro %}

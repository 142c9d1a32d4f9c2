{#- Models built in batches: the two whose work grows with every meter match of the night
    (int_event_revenue_attributions, fct_event_pipeline_log). Built in one statement, their
    joins, windows and aggregates over 100M events passed 43 GB of DuckDB's temp folder;
    each batch holds ~matches_per_batch matches, so what one statement holds is bounded by
    the batch, not the night (docs/benchmark.md).

    A model opts in with config(batch_key=<column or list of columns>) and the filter
    in_batch() on each input that has the columns; the key keeps together what one row of
    the model needs (a line's events: its meter and invoice; a record's matches and
    attributions). Batch k of n holds the keys in [bound k, bound k+1), compared as a struct
    (column by column, a null after every value), the bounds being quantiles of the key over
    a sample of the meter matches, so each batch holds about as many matches; the batches
    partition the rows, so the table is the same whatever n is. Key ranges, not hashes:
    DuckDB pushes the first column's range into the scan, where zone maps skip the row groups
    of other batches in a table stored in that column's order (the records in record_seq
    order; the meter matches meter by meter), and estimates it as a fraction of the table,
    where a hash test read every row group and was estimated at one row. -#}

{#- The key's columns, and the key as one struct value. -#}
{% macro batch_key_columns() -%}
    {%- set key = config.get('batch_key') -%}
    {{ return([key] if key is string else key) }}
{%- endmacro %}
{% macro batch_key_struct(columns) -%}
    {%- set fields = [] -%}
    {%- for c in columns -%}{%- do fields.append("'" ~ c ~ "': " ~ c) -%}{%- endfor -%}
    {{ '{' ~ fields | join(', ') ~ '}' }}
{%- endmacro %}

{#- True for the rows of the batch being built; true for every row on Spark, when no batch is
    set (the compiled SQL run by hand: getvariable gives null), and rendered as `true` when
    the model is built in one batch. The struct comparison decides; the first column's range
    beside it is implied by it (a null first column sorts last) and is what DuckDB pushes
    into the scans: it folds getvariable() at planning, so the scan sees `col >= x` and
    `col <= y`. -#}
{% macro in_batch() -%}
    {{ return(adapter.dispatch('in_batch', 'tallyhouse')(batch_key_columns())) }}
{%- endmacro %}
{% macro default__in_batch(columns) -%}
    {%- if build_batches() > 1 -%}
    {%- set first = columns[0] -%}
    {%- set low = "getvariable('tallyhouse_batch_from')" -%}
    {%- set high = "getvariable('tallyhouse_batch_to')" -%}
    ({{ low }} is null or {{ first }} is null or {{ first }} >= struct_extract({{ low }}, '{{ first }}'))
    and ({{ high }} is null or struct_extract({{ high }}, '{{ first }}') is null
         or {{ first }} <= struct_extract({{ high }}, '{{ first }}'))
    and ({{ low }} is null or {{ batch_key_struct(columns) }} >= {{ low }})
    and ({{ high }} is null or {{ batch_key_struct(columns) }} < {{ high }})
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
{% macro spark__in_batch(columns) -%}
    true
{%- endmacro %}

{#- How many batches the model is built in: one per matches_per_batch meter matches (a dbt
    var, dbt_project.yml). One while the matches table does not exist yet (`dbt compile` on
    a fresh warehouse). -#}
{% macro build_batches() -%}
    {%- if not config.get('batch_key') or not execute -%}
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
    so a night's open rows are built in batches as well. The n - 1 bounds are kept in a
    DuckDB variable (a list of structs of the key's columns: no quoting in Jinja); list[0]
    and list[n] are null, so the first batch is open below and the last above. A sample of
    100,000 matches places them within a fraction of a percent. A bound is never null (there
    are batches only when there are matches, and a key of null columns is still a struct),
    so no batch is open at both ends. -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if language != 'sql' or not config.get('batch_key') -%}
        {{ return(dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by)) }}
    {%- endif -%}
    {%- set batches = build_batches() -%}
    {%- set columns = batch_key_columns() -%}
    {%- set fractions = [] -%}
    {%- for k in range(1, batches) -%}{%- do fractions.append(k / batches) -%}{%- endfor %}
    {%- if batches > 1 %}
    set variable tallyhouse_batch_bounds = (
        select quantile_disc({{ batch_key_struct(columns) }}, {{ fractions }})
        from (from {{ load_relation(ref('int_event_meter_matches')) }} using sample reservoir (100000 rows))
    );
    {%- endif %}
    {%- for batch in range(batches) %}
    set variable tallyhouse_batch = {{ batch }};
    set variable tallyhouse_batch_from = getvariable('tallyhouse_batch_bounds')[{{ batch }}];
    set variable tallyhouse_batch_to = getvariable('tallyhouse_batch_bounds')[{{ batch + 1 }}];
    {% if loop.first -%}
    {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- else -%}
    insert into {{ relation.include(database=(not temporary), schema=(not temporary)) }} (
        {{ compiled_code }}
    );
    {%- endif %}
    {%- endfor %}
    reset variable tallyhouse_batch_bounds;
    reset variable tallyhouse_batch;
    reset variable tallyhouse_batch_from;
    reset variable tallyhouse_batch_to;
{%- endmacro %}

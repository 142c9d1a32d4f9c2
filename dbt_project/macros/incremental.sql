{#- Incremental models keep the rows of finalized invoices (never recomputed, SEMANTICS 8)
    and recompute the rows of open ones each night, so a night's work grows with the new
    events and the open cycles, not with history. One scheme for every such model:
      config:    incremental_strategy=open_rows_strategy(), partition_by=open_rows_partition(),
                 pre_hook=remove_rows_where(open_*()), post_hook=write_schema_file()
      body:      select only rows of open invoices (is_open_invoice), plus new records,
                 reading the rows that stay as {{ this }}, and ending with
                 `select *{{ rating_window(open_*()) }} from final`
    On DuckDB the pre_hook deletes the open rows and the body is appended (delete+insert).
    Spark's Parquet tables have no DELETE: there each such table is partitioned by
    rating_window. 'open' holds the rows the latest night wrote, 'final' the rows that
    stopped being open. The pre_hook appends the rows of 'open' that are no longer open to
    'final' and drops 'open'; the body's rows replace the 'open' partition
    (insert_overwrite by partition). 'final' is only appended to, unless the predicate
    reopens one of its rows (a late event on a closed day of daily usage): then 'final' is
    rewritten without it. A night's I/O thus grows with the open rows, not with history. -#}

{% macro open_rows_strategy() -%}
    {{ return(adapter.dispatch('open_rows_strategy', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__open_rows_strategy() -%}{{ return('append') }}{%- endmacro %}
{% macro spark__open_rows_strategy() -%}{{ return('insert_overwrite') }}{%- endmacro %}

{% macro open_rows_partition() -%}
    {{ return(adapter.dispatch('open_rows_partition', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__open_rows_partition() -%}{{ return(none) }}{%- endmacro %}
{% macro spark__open_rows_partition() -%}{{ return(['rating_window']) }}{%- endmacro %}

{#- The partition column of the body's rows (Spark only; the last column, as Spark wants it).
    A night's rows all go to 'open', the partition insert_overwrite replaces; the first build
    sorts its rows by the model's open predicate, so finalized history starts in 'final'. -#}
{% macro rating_window(open_predicate) -%}
    {{ return(adapter.dispatch('rating_window', 'tallyhouse')(open_predicate)) }}
{%- endmacro %}
{% macro default__rating_window(open_predicate) -%}{%- endmacro %}
{% macro spark__rating_window(open_predicate) -%}
    {%- if is_incremental() -%}
        , 'open' as rating_window
    {%- else -%}
        , case when {{ open_predicate }} then 'open' else 'final' end as rating_window
    {%- endif -%}
{%- endmacro %}

{#- The pre_hook: remove the rows the body recomputes (those where `predicate` holds; no
    predicate below is ever NULL: it tests not-null ids). -#}
{% macro remove_rows_where(predicate) -%}
    {{ return(adapter.dispatch('remove_rows_where', 'tallyhouse')(predicate)) }}
{%- endmacro %}
{% macro default__remove_rows_where(predicate) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ predicate }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
{% macro spark__remove_rows_where(predicate) -%}
    {%- if is_incremental() -%}
        {%- if 'rating_window' not in adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
            {{ exceptions.raise_compiler_error(
                this ~ " predates the rating_window partitions of incremental models on Spark:"
                ~ " rebuild it once with `dbt build --full-refresh`") }}
        {%- endif -%}
        {%- set data_columns = data_columns_of(this) -%}
        {%- set reopened = run_query(
            "select count(*) from " ~ this ~ " where rating_window = 'final' and ("
            ~ predicate ~ ")").columns[0].values()[0] -%}
        {%- if reopened == 0 -%}
            {%- do run_query(
                "insert into " ~ this ~ " partition (rating_window = 'final') select "
                ~ data_columns ~ " from " ~ this ~ " where rating_window = 'open' and not ("
                ~ predicate ~ ")") -%}
            {%- do run_query("alter table " ~ this ~ " drop if exists partition (rating_window = 'open')") -%}
        {%- else -%}
            {#- Rare: 'final' loses rows, so both partitions are rewritten from a copy. -#}
            {%- set kept = this.incorporate(path={'identifier': this.identifier ~ '__kept'}) -%}
            {%- do run_query("drop table if exists " ~ kept) -%}
            {%- do run_query(
                "create table " ~ kept ~ " using parquet as select " ~ data_columns
                ~ " from " ~ this ~ " where not (" ~ predicate ~ ")") -%}
            {%- do run_query(
                "alter table " ~ this ~ " drop if exists partition (rating_window = 'open'),"
                ~ " partition (rating_window = 'final')") -%}
            {%- do run_query(
                "insert into " ~ this ~ " partition (rating_window = 'final') select * from " ~ kept) -%}
            {%- do run_query("drop table " ~ kept) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A Spark table's columns without its partition column, as a select list. -#}
{% macro data_columns_of(relation) -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name')
        | reject('equalto', 'rating_window') | join(', ')) }}
{%- endmacro %}

{#- The post_hook. A partitioned Spark table with no rows has no Parquet file, and the Python
    side reads Spark's tables as Parquet files: an empty file of the table's columns kept in
    <table>/_schema (a folder Spark's partitions never list) lets it read the empty table. -#}
{% macro write_schema_file() -%}
    {{ return(adapter.dispatch('write_schema_file', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__write_schema_file() -%}{%- endmacro %}
{% macro spark__write_schema_file() -%}
    {%- if execute -%}
        {%- set location = run_query("describe table extended " ~ this)
            | selectattr(0, 'equalto', 'Location') | map(attribute=1) | first -%}
        insert overwrite directory '{{ location }}/_schema' using parquet
        select {{ data_columns_of(this) }} from {{ this }} limit 0
    {%- endif -%}
{%- endmacro %}

{% macro finalized_invoice_ids() -%}
    select invoice_id from {{ ref('stg_billing__invoice_periods') }}
    where finalized_through_record_seq is not null
{%- endmacro %}

{% macro is_open_invoice(invoice_column) -%}
    ({{ invoice_column }} is null or {{ invoice_column }} not in ({{ finalized_invoice_ids() }}))
{%- endmacro %}

{#- The open predicates: which rows of a model a night recomputes (the pre_hook removes them,
    `remove_rows_where(open_*())`). Unqualified columns are the model's own. -#}
{% macro open_invoice_rows() -%}
    {{ return(is_open_invoice('invoice_id')) }}
{%- endmacro %}

{#- Records, not invoices: a record's row is rewritten while its invoice is open, and, when it
    has no invoice, while its catalog-dependent status may still change (ingestion accepted
    it: ACCOUNT_NOT_FOUND, SCHEMA_NOT_DEFINED, INVALID attributes, NO_PRICE_PLAN, or no cycle
    laid out yet). Ingestion's verdicts (DUPLICATE, INVALID JSON, ...) never change: kept. -#}
{% macro accepted_record_seqs() -%}
    select record_seq from {{ ref('stg_landing__event_records') }} where ingest_status = 'ACCEPTED'
{%- endmacro %}

{% macro is_open_record(invoice_column, record_seq_column) -%}
    (({{ invoice_column }} is null and {{ record_seq_column }} in ({{ accepted_record_seqs() }}))
     or ({{ invoice_column }} is not null and {{ invoice_column }} not in ({{ finalized_invoice_ids() }})))
{%- endmacro %}

{% macro open_record_rows() -%}
    {{ return(is_open_record('invoice_id', 'record_seq')) }}
{%- endmacro %}

{#- The pipeline log's row of a record is rewritten with the record's resolved row: its
    invoice_id is set for RESOLVED records only, so "no invoice when written" is read from
    cycle_start (null exactly when the resolved row had no invoice); a record whose resolved
    row is open now (e.g. SCHEMA_NOT_DEFINED in an open cycle) is rewritten too. -#}
{% macro open_pipeline_log_rows() -%}
    {%- set predicate -%}
        (cycle_start is null and record_seq in ({{ accepted_record_seqs() }}))
           or (invoice_id is not null and invoice_id not in ({{ finalized_invoice_ids() }}))
           or record_seq in (
               select record_seq from {{ ref('int_event_records_resolved') }}
               where {{ is_open_record('invoice_id', 'record_seq') }}
           )
    {%- endset -%}
    {{ return(predicate) }}
{%- endmacro %}

{#- Daily usage is per account × meter × local day, not per invoice: a day's row is kept while
    every meter match of that day belongs to a finalized invoice and their number is the one
    the row counted; otherwise (an open or not-yet-laid-out cycle, a late event of a closed
    day, matches gone) it is deleted and the day recomputed. -#}
{% macro usage_day_matches() -%}
    select
        m.account_id,
        m.meter_id,
        mt.aggregation,
        cast({{ to_local_timestamp('m.event_timestamp', 'a.timezone') }} as date) as usage_date,
        m.record_seq,
        m.event_id,
        m.event_timestamp,
        m.meter_value,
        m.meter_key,
        m.invoice_id
    from {{ ref('int_event_meter_matches') }} as m
    inner join {{ ref('stg_catalog__usage_meters') }} as mt on mt.meter_id = m.meter_id
    inner join {{ ref('stg_catalog__accounts') }} as a on a.account_id = m.account_id
{%- endmacro %}

{#- `day`: the relation whose rows are the days (the model in the pre_hook, the body's CTE). -#}
{% macro open_usage_days(day) -%}
    {%- set predicate -%}
        not exists (
            select 1 from (
                select
                    account_id, meter_id, usage_date, count(*) as matches,
                    sum(case when {{ is_open_invoice('invoice_id') }} then 1 else 0 end) as open_matches
                from ({{ usage_day_matches() }}) as day_matches
                group by account_id, meter_id, usage_date
            ) as d
            where d.account_id = {{ day }}.account_id
              and d.meter_id = {{ day }}.meter_id
              and d.usage_date = {{ day }}.usage_date
              and d.open_matches = 0
              and d.matches = {{ day }}.events
        )
    {%- endset -%}
    {{ return(predicate) }}
{%- endmacro %}

{#- Incremental models keep the rows of finalized invoices (never recomputed, SEMANTICS 8)
    and recompute the rows of open ones each night, so a night's work grows with the new
    events and the open cycles, not with history. One scheme for every such model:
      config:    incremental_strategy=open_rows_strategy(), pre_hook=remove_open_*(),
                 post_hook=drop_kept_rows()
      body:      select only rows of open invoices (is_open_invoice), plus new records,
                 reading the model's own kept rows as kept_rows(), and ending with
                 plus_kept_rows()
    On DuckDB the pre_hook deletes the open rows and the body is appended (delete+insert).
    Spark's Parquet tables have no DELETE, and Spark cannot overwrite a table a query reads:
    there the pre_hook copies the rows to keep aside (<model>__kept), and the body plus those
    rows replace the table (insert_overwrite); the copy is dropped after. -#}

{% macro open_rows_strategy() -%}
    {{ return(adapter.dispatch('open_rows_strategy', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__open_rows_strategy() -%}{{ return('append') }}{%- endmacro %}
{% macro spark__open_rows_strategy() -%}{{ return('insert_overwrite') }}{%- endmacro %}

{#- The model's rows that stay this night: the table itself once the pre_hook deleted the
    open rows (DuckDB), or their copy (Spark). -#}
{% macro kept_rows() -%}
    {{ return(adapter.dispatch('kept_rows', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__kept_rows() -%}{{ return(this) }}{%- endmacro %}
{% macro spark__kept_rows() -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__kept'})) }}
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
        {%- do run_query('drop table if exists ' ~ kept_rows()) -%}
        create table {{ kept_rows() }} using parquet as
        select * from {{ this }} where not ({{ predicate }})
    {%- endif -%}
{%- endmacro %}

{#- The end of the body: on Spark the kept rows go back with the recomputed ones. -#}
{% macro plus_kept_rows() -%}
    {{ return(adapter.dispatch('plus_kept_rows', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__plus_kept_rows() -%}{%- endmacro %}
{% macro spark__plus_kept_rows() -%}
    {%- if is_incremental() %}
union all
select * from {{ kept_rows() }}
    {%- endif -%}
{%- endmacro %}

{% macro drop_kept_rows() -%}
    {{ return(adapter.dispatch('drop_kept_rows', 'tallyhouse')()) }}
{%- endmacro %}
{% macro default__drop_kept_rows() -%}{%- endmacro %}
{% macro spark__drop_kept_rows() -%}
    {%- if is_incremental() -%}drop table if exists {{ kept_rows() }}{%- endif -%}
{%- endmacro %}

{% macro finalized_invoice_ids() -%}
    select invoice_id from {{ ref('stg_billing__invoice_periods') }}
    where finalized_through_record_seq is not null
{%- endmacro %}

{% macro is_open_invoice(invoice_column) -%}
    ({{ invoice_column }} is null or {{ invoice_column }} not in ({{ finalized_invoice_ids() }}))
{%- endmacro %}

{% macro remove_open_invoice_rows() -%}
    {{ return(remove_rows_where(is_open_invoice('invoice_id'))) }}
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

{% macro remove_open_record_rows() -%}
    {{ return(remove_rows_where(is_open_record('invoice_id', 'record_seq'))) }}
{%- endmacro %}

{#- The pipeline log's row of a record is rewritten with the record's resolved row: its
    invoice_id is set for RESOLVED records only, so "no invoice when written" is read from
    cycle_start (null exactly when the resolved row had no invoice); a record whose resolved
    row is open now (e.g. SCHEMA_NOT_DEFINED in an open cycle) is rewritten too. -#}
{% macro remove_open_pipeline_log_rows() -%}
    {%- set predicate -%}
        (cycle_start is null and record_seq in ({{ accepted_record_seqs() }}))
           or (invoice_id is not null and invoice_id not in ({{ finalized_invoice_ids() }}))
           or record_seq in (
               select record_seq from {{ ref('int_event_records_resolved') }}
               where {{ is_open_record('invoice_id', 'record_seq') }}
           )
    {%- endset -%}
    {{ return(remove_rows_where(predicate)) }}
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

{% macro remove_open_usage_days() -%}
    {%- set predicate -%}
        not exists (
            select 1 from (
                select
                    account_id, meter_id, usage_date, count(*) as matches,
                    sum(case when {{ is_open_invoice('invoice_id') }} then 1 else 0 end) as open_matches
                from ({{ usage_day_matches() }}) as day_matches
                group by account_id, meter_id, usage_date
            ) as d
            where d.account_id = {{ this }}.account_id
              and d.meter_id = {{ this }}.meter_id
              and d.usage_date = {{ this }}.usage_date
              and d.open_matches = 0
              and d.matches = {{ this }}.events
        )
    {%- endset -%}
    {{ return(remove_rows_where(predicate)) }}
{%- endmacro %}

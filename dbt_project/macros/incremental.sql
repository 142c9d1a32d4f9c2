{#- Incremental models keep the rows of finalized invoices (never recomputed, SEMANTICS 8)
    and recompute the rows of open ones each night, so a night's work grows with the new
    events and the open cycles, not with history. One scheme for every such model:
      pre_hook:  delete the rows of open invoices (delete_open_invoice_rows)
      body:      select only rows of open invoices (is_open_invoice), plus new records
    On Spark the same two steps become an insert_overwrite of the open partitions. -#}

{% macro finalized_invoice_ids() -%}
    select invoice_id from {{ ref('stg_billing__invoice_periods') }}
    where finalized_through_record_seq is not null
{%- endmacro %}

{% macro is_open_invoice(invoice_column) -%}
    ({{ invoice_column }} is null or {{ invoice_column }} not in ({{ finalized_invoice_ids() }}))
{%- endmacro %}

{% macro delete_open_invoice_rows() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ is_open_invoice('invoice_id') }}
    {%- else -%}
        select 1
    {%- endif -%}
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

{% macro delete_open_record_rows() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ is_open_record('invoice_id', 'record_seq') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The pipeline log's row of a record is rewritten with the record's resolved row: its
    invoice_id is set for RESOLVED records only, so "no invoice when written" is read from
    cycle_start (null exactly when the resolved row had no invoice); a record whose resolved
    row is open now (e.g. SCHEMA_NOT_DEFINED in an open cycle) is rewritten too. -#}
{% macro delete_open_pipeline_log_rows() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where (cycle_start is null and record_seq in ({{ accepted_record_seqs() }}))
           or (invoice_id is not null and invoice_id not in ({{ finalized_invoice_ids() }}))
           or record_seq in (
               select record_seq from {{ ref('int_event_records_resolved') }}
               where {{ is_open_record('invoice_id', 'record_seq') }}
           )
    {%- else -%}
        select 1
    {%- endif -%}
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

{% macro delete_open_usage_days() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where not exists (
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
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

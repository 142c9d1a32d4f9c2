-- The pipeline log: every record that ever entered ingestion, exactly once, with why it was
-- or was not billed: its status, the meters it matched and its units per meter, the plan,
-- cycle and invoice it belongs to, and the revenue attributed to it (SEMANTICS 18-19).
-- Built after the invoicing step, so every invoice_id it names exists:
-- depends_on: {{ ref('fct_invoices') }}
-- Incremental (macros/incremental.sql): a record's row is rewritten with its resolved row
-- (open invoice, or no invoice and a status the catalog may still change); the rows of
-- finalized invoices and ingestion's rejections are written once and kept.
{{
    config(
        materialized='incremental',
        incremental_strategy=open_rows_strategy(),
        partition_by=open_rows_partition(),
        pre_hook="{{ remove_rows_where(open_pipeline_log_rows()) }}",
        post_hook="{{ write_schema_file() }}",
        batch_key='record_seq',
    )
}}
-- depends_on: {{ ref('stg_billing__invoice_periods') }}
-- depends_on: {{ ref('stg_landing__event_records') }}
with records as (
    select * from {{ ref('int_event_records_resolved') }}
    where {{ in_batch() }}
    {% if is_incremental() %}
        -- The rows the pre_hook deleted, and new records.
        and record_seq not in (select record_seq from {{ this }})
    {% endif %}
),

matches as (
    select * from {{ ref('int_event_meter_matches') }}
    where {{ in_batch() }}
    {% if is_incremental() %} and record_seq in (select record_seq from records) {% endif %}
),

meters as (
    select meter_id, aggregation from {{ ref('stg_catalog__usage_meters') }}
),

attributions as (
    select * from {{ ref('int_event_revenue_attributions') }}
    where {{ in_batch() }}
    {% if is_incremental() %} and record_seq in (select record_seq from records) {% endif %}
),

units_per_event as (
    -- What each event contributes to each meter it matched: 1 for COUNT, else its value.
    -- (The matched meter ids are the map's keys, sorted: one list aggregate, not two.)
    select
        m.record_seq,
        {{ map_of('m.meter_id', "case when mt.aggregation = 'COUNT' then cast(1 as " ~ exact_decimal() ~ ") else m.meter_value end") }}
            as meter_units
    from matches as m
    inner join meters as mt on mt.meter_id = m.meter_id
    group by m.record_seq
),

revenue_per_event as (
    select record_seq, sum(attributed_amount) as revenue
    from attributions
    group by record_seq
),

final as (
    select
        r.event_id,
        r.record_seq,
        r.raw_ref,
        r.source_file,
        r.received_at,
        r.event_timestamp,
        r.schema_name,
        r.account_id,
        r.customer_id,
        case
            when r.status <> 'RESOLVED' then r.status
            when u.record_seq is null then 'NO_MATCHING_METERS'
            when r.is_past_grace_period then 'PAST_GRACE_PERIOD'
            else 'METERED'
        end as status,
        case
            when r.status <> 'RESOLVED' then r.status_reason
            when u.record_seq is null then 'no usage meter of schema ''' || r.schema_name || ''' matched'
            when r.is_past_grace_period
                then 'received after invoice ' || r.invoice_id || ' was finalized; kept, not billed'
        end as status_reason,
        map_keys(u.meter_units) as matched_meter_ids,
        u.meter_units,
        r.plan_id,
        r.assignment_id,
        r.cycle_start,
        r.cycle_end,
        cast(coalesce(v.revenue, 0) as {{ exact_decimal() }}) as revenue,
        -- False for an event whose meters the plan in force does not price (SEMANTICS).
        v.record_seq is not null as revenue_computed,
        case when r.status = 'RESOLVED' then r.invoice_id end as invoice_id
    from records as r
    left join units_per_event as u on u.record_seq = r.record_seq
    left join revenue_per_event as v on v.record_seq = r.record_seq
)

select *{{ rating_window(open_pipeline_log_rows()) }} from final

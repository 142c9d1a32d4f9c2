-- Usage per account × meter × local day (the account's timezone), for dashboards and the
-- customer portal (CONTRACT §2): units aggregated per the meter's aggregation over the day's
-- events (SEMANTICS 5: COUNT events; SUM, MAX, UNIQUE_COUNT of the value; LATEST the value of
-- the day's latest event, ties to the greatest event id; null values count for COUNT only).
-- Every metered event counts, whether or not the plan in force prices its meter.
{{
    config(
        materialized='incremental',
        incremental_strategy=open_rows_strategy(),
        partition_by=open_rows_partition(),
        schema='marts',
        pre_hook="{{ remove_rows_where(open_usage_days(this)) }}",
        post_hook="{{ write_schema_file() }}",
    )
}}
-- depends_on: {{ ref('stg_billing__invoice_periods') }}
-- Incremental: the days of finalized cycles are kept; a night recomputes only the days the
-- pre_hook deleted (open cycles, late events, vanished matches), i.e. the days with no row.

-- Read twice (latest values, daily totals), each read with its own filter.
with daily_events as {{ inlined() }} (
    select d.*
    from ({{ usage_day_matches() }}) as d
    {% if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as kept
        where kept.account_id = d.account_id
          and kept.meter_id = d.meter_id
          and kept.usage_date = d.usage_date
    )
    {% endif %}
),

latest_values as (
    select account_id, meter_id, usage_date, meter_value as latest_value
    from (
        select
            account_id, meter_id, usage_date, meter_value,
            row_number() over (
                partition by account_id, meter_id, usage_date
                order by event_timestamp desc, event_id desc
            ) as recency
        from daily_events
        where aggregation = 'LATEST' and meter_value is not null
    ) as ranked
    where recency = 1
),

aggregated as (
    select
        account_id,
        meter_id,
        aggregation,
        usage_date,
        count(*) as events,
        sum(meter_value) as value_sum,
        max(meter_value) as value_max,
        count(distinct meter_key) as value_distinct
    from daily_events
    group by account_id, meter_id, aggregation, usage_date
),

final as (
    select
        a.account_id,
        a.meter_id,
        a.usage_date,
        {{ meter_units('a', 'l.latest_value') }} as units,
        a.events
    from aggregated as a
    left join latest_values as l
        on l.account_id = a.account_id
        and l.meter_id = a.meter_id
        and l.usage_date = a.usage_date
)

select *{{ rating_window(open_usage_days('final')) }} from final

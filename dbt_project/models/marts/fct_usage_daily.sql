-- Usage per account × meter × local day (the account's timezone), for dashboards and the
-- customer portal (CONTRACT §2): units aggregated per the meter's aggregation over the day's
-- events (SEMANTICS 5: COUNT events; SUM, MAX, UNIQUE_COUNT of the value; LATEST the value of
-- the day's latest event, ties to the greatest event id; null values count for COUNT only).
-- Every metered event counts, whether or not the plan in force prices its meter.
{{ config(materialized='table', schema='marts') }}

with meter_matches as (
    select * from {{ ref('int_event_meter_matches') }}
),

meters as (
    select meter_id, aggregation from {{ ref('stg_catalog__usage_meters') }}
),

accounts as (
    select account_id, timezone from {{ ref('stg_catalog__accounts') }}
),

daily_events as (
    select
        m.account_id,
        m.meter_id,
        mt.aggregation,
        cast({{ to_local_timestamp('m.event_timestamp', 'a.timezone') }} as date) as usage_date,
        m.event_id,
        m.event_timestamp,
        m.meter_value,
        m.meter_key
    from meter_matches as m
    inner join meters as mt on mt.meter_id = m.meter_id
    inner join accounts as a on a.account_id = m.account_id
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

select * from final

-- One rate card of one plan, with its meter in words; its slabs are in dim_rate_card_slabs.
with cards as (
    select * from {{ ref('stg_catalog__rate_cards') }}
),

meters as (
    select meter_id, meter_name, aggregation from {{ ref('stg_catalog__usage_meters') }}
)

select
    c.plan_id,
    c.rate_card_id,
    c.card_position,
    c.rate_card_type,
    c.meter_id,
    m.meter_name,
    m.aggregation,
    c.pricing_model,
    c.amount,
    c.proration,
    c.minimum_amount,
    c.maximum_amount
from cards as c
left join meters as m on m.meter_id = c.meter_id

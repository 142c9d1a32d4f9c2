with source as (select * from {{ source('catalog', 'rate_cards') }})
select plan_id, rate_card_id, rate_card_type, meter_id, pricing_model, amount, proration,
       minimum_amount, maximum_amount, card_position, catalog_version
from source

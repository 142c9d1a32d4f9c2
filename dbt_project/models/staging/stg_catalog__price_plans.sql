with source as (select * from {{ source('catalog', 'price_plans') }})
select plan_id, plan_name, currency, billing_interval, anchor_day, anchor_month, anchor_weekday,
       grace_period_days, catalog_version
from source

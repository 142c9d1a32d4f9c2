-- One price plan (CONTRACT §2): its billing cycle and currency; its rate cards are in
-- dim_rate_cards.
select
    plan_id,
    plan_name,
    currency,
    billing_interval,
    anchor_day,
    anchor_month,
    anchor_weekday,
    grace_period_days,
    catalog_version
from {{ ref('stg_catalog__price_plans') }}

-- The invoices that exist this run (SEMANTICS, "invoices exist"): every period begun by the
-- run's clock, and a period not yet begun only when it already has usage (events may be
-- dated up to a day ahead). One definition for the rating models and the invoicing step.
with invoice_periods as (
    select * from {{ ref('stg_billing__invoice_periods') }}
),

usage_by_cycle as (
    select * from {{ ref('int_usage_by_cycle') }}
),

price_plans as (
    select plan_id, currency from {{ ref('stg_catalog__price_plans') }}
),

currencies as (
    select * from {{ ref('stg_catalog__currencies') }}
),

invoices_with_usage as (
    select distinct invoice_id from usage_by_cycle
),

final as (
    select
        p.*,
        pp.currency,
        cur.minor_units
    from invoice_periods as p
    inner join price_plans as pp on pp.plan_id = p.plan_id
    inner join currencies as cur on cur.currency = pp.currency
    left join invoices_with_usage as u on u.invoice_id = p.invoice_id
    where p.period_start < {{ as_of() }} or u.invoice_id is not null
)

select * from final

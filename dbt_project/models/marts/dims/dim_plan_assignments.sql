-- One plan assignment (CONTRACT §2): which plan an account is on from which local day to
-- which (inclusive; null = open-ended), with the names a schedule shows.
with assignments as (
    select * from {{ ref('stg_catalog__plan_assignments') }}
),

accounts as (
    select account_id, customer_id, account_name from {{ ref('stg_catalog__accounts') }}
),

plans as (
    select plan_id, plan_name, currency from {{ ref('stg_catalog__price_plans') }}
)

select
    s.assignment_id,
    s.account_id,
    a.customer_id,
    a.account_name,
    s.plan_id,
    p.plan_name,
    p.currency,
    s.effective_from,
    s.effective_until
from assignments as s
inner join accounts as a on a.account_id = s.account_id
inner join plans as p on p.plan_id = s.plan_id

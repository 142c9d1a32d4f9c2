-- One account (CONTRACT §2): its customer, currency, timezone and the aliases events may carry.
-- The portal and widget tokens are checked against this table: an account that is no longer
-- here, or that now belongs to another customer, is refused.
with accounts as (
    select * from {{ ref('stg_catalog__accounts') }}
),

customers as (
    select customer_id, customer_name from {{ ref('stg_catalog__customers') }}
),

aliases as (
    select account_id, {{ sorted_array_of('alias') }} as aliases
    from {{ ref('stg_catalog__account_aliases') }}
    group by account_id
)

select
    a.account_id,
    a.customer_id,
    c.customer_name,
    a.account_name,
    a.currency,
    a.timezone,
    al.aliases
from accounts as a
inner join customers as c on c.customer_id = a.customer_id
left join aliases as al on al.account_id = a.account_id

-- One customer (CONTRACT §2), with how many accounts it holds.
with customers as (
    select * from {{ ref('stg_catalog__customers') }}
),

accounts as (
    select customer_id, count(*) as accounts
    from {{ ref('stg_catalog__accounts') }}
    group by customer_id
)

select
    c.customer_id,
    c.customer_name,
    c.email,
    coalesce(a.accounts, 0) as accounts
from customers as c
left join accounts as a on a.customer_id = c.customer_id

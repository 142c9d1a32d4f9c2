with source as (select * from {{ source('catalog', 'plan_assignments') }})
select assignment_id, account_id, plan_id, effective_from, effective_until from source

with source as (select * from {{ source('catalog', 'credit_grants') }})
select credit_id, account_id, amount, currency, priority, effective_from, effective_until, applies_to
from source

with source as (select * from {{ source('catalog', 'rate_card_slabs') }})
select plan_id, rate_card_id, slab_index, start_after, rate, flat_fee, package_size from source

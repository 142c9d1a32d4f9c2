-- One slab of one usage rate card, in order: what the portal reads to say the price in words.
select plan_id, rate_card_id, slab_index, start_after, rate, flat_fee, package_size
from {{ ref('stg_catalog__rate_card_slabs') }}

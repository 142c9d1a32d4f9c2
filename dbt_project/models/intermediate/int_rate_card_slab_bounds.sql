-- Each slab with its bounds (SEMANTICS 9): it covers (start_after, end_at], end_at being the
-- next slab's start_after (null: no end); units at or below the first slab's start_after
-- (the allowance) are free. One definition for rating and for revenue attribution.
with rate_card_slabs as (
    select * from {{ ref('stg_catalog__rate_card_slabs') }}
),

final as (
    select
        plan_id,
        rate_card_id,
        slab_index,
        start_after,
        lead(start_after) over (
            partition by plan_id, rate_card_id order by slab_index
        ) as end_at,
        min(start_after) over (partition by plan_id, rate_card_id) as allowance,
        rate,
        coalesce(flat_fee, 0) as flat_fee,
        package_size
    from rate_card_slabs
)

select * from final

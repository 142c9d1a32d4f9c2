-- One usage line per (invoice, USAGE rate card of the period's plan): the meter's units this
-- period rated through the card's slabs into an exact, unrounded amount (SEMANTICS 9, 17).
-- Every usage card of the plan has a line on every invoice, at zero when unused ("invoices
-- exist"), so the pricing rules' usage.X / revenue.X are always defined. Money arithmetic
-- goes through the exact scaled-integer macros of macros/money.sql; rule_engine.slabs is the
-- reference these numbers must equal.
with invoices as (
    select * from {{ ref('int_invoices') }}
),

usage_by_cycle as (
    select * from {{ ref('int_usage_by_cycle') }}
),

rate_cards as (
    select * from {{ ref('stg_catalog__rate_cards') }}
    where rate_card_type = 'USAGE'
),

meters as (
    select meter_id, aggregation from {{ ref('stg_catalog__usage_meters') }}
),

usage_lines as (
    select
        i.invoice_id,
        i.account_id,
        i.assignment_id,
        i.plan_id,
        i.currency,
        i.minor_units,
        c.rate_card_id,
        c.meter_id,
        m.aggregation,
        c.pricing_model,
        c.catalog_version,
        c.card_position,
        c.minimum_amount,
        c.maximum_amount,
        cast(coalesce(u.units, 0) as {{ exact_decimal() }}) as quantity,
        coalesce(u.events, 0) as events
    from invoices as i
    inner join rate_cards as c on c.plan_id = i.plan_id
    left join meters as m on m.meter_id = c.meter_id
    left join usage_by_cycle as u
        on u.invoice_id = i.invoice_id
        and u.meter_id = c.meter_id
),

slab_bounds as (
    select * from {{ ref('int_rate_card_slab_bounds') }}
),

charging_slabs as (
    -- TIERED: every slab holding at least one unit charges for its units. VOLUME: the slab
    -- containing the total charges for every unit above the allowance. 0 or negative usage
    -- and usage within the allowance touch no slab.
    select
        l.invoice_id,
        l.rate_card_id,
        s.slab_index,
        s.rate,
        s.flat_fee,
        s.package_size,
        cast(case
            when l.pricing_model = 'VOLUME' then l.quantity - s.allowance
            when s.end_at is not null and s.end_at < l.quantity then s.end_at - s.start_after
            else l.quantity - s.start_after
        end as {{ exact_decimal() }}) as slab_units
    from usage_lines as l
    inner join slab_bounds as s
        on s.plan_id = l.plan_id
        and s.rate_card_id = l.rate_card_id
        and l.quantity > s.start_after
        and (l.pricing_model = 'TIERED' or s.end_at is null or l.quantity <= s.end_at)
),

slab_charges as (
    select
        invoice_id,
        rate_card_id,
        slab_index,
        slab_units,
        case
            when package_size is null then {{ exact_multiply('rate', 'slab_units') }}
            else {{ exact_multiply('rate', packages('slab_units', 'package_size')) }}
        end + flat_fee as slab_amount
    from charging_slabs
),

slab_totals as (
    select
        invoice_id,
        rate_card_id,
        sum(slab_amount) as slab_amount
    from slab_charges
    group by invoice_id, rate_card_id
),

rated as (
    select
        l.*,
        cast(coalesce(t.slab_amount, 0) as {{ exact_decimal() }}) as slab_amount
    from usage_lines as l
    left join slab_totals as t
        on t.invoice_id = l.invoice_id
        and t.rate_card_id = l.rate_card_id
),

clamped as (
    -- The card's minimum and maximum clamp its amount only when there is usage; a negative
    -- total (corrections outweigh usage) rates as 0.
    select
        *,
        cast(case
            when quantity <= 0 then 0
            when maximum_amount is not null
                and (case when minimum_amount is not null and slab_amount < minimum_amount
                          then minimum_amount else slab_amount end) > maximum_amount
                then maximum_amount
            when minimum_amount is not null and slab_amount < minimum_amount then minimum_amount
            else slab_amount
        end as {{ exact_decimal() }}) as amount
    from rated
),

final as (
    select
        invoice_id,
        account_id,
        assignment_id,
        plan_id,
        currency,
        rate_card_id,
        meter_id,
        aggregation,
        pricing_model,
        catalog_version,
        card_position,
        quantity,
        events,
        slab_amount,
        amount,
        {{ round_money('amount', 'minor_units') }} as rounded_amount
    from clamped
)

select * from final

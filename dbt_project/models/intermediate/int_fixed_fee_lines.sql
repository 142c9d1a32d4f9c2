-- One row per (invoice, fixed-fee or minimum-commitment rate card of the period's plan).
-- FIXED_FEE (line_type FIXED_FEE): charged once per cycle; with proration: true a cut piece
-- pays amount × period_seconds / cycle_seconds (its share of the cycle's seconds), with
-- proration: false each piece pays in full (SEMANTICS 7, 10, "cut cycles").
-- MINIMUM_COMMITMENT (line_type MINIMUM_COMMITMENT): not an invoice line itself; its
-- commitment_amount (commitment × the piece's share) is what the true-up compares the
-- invoice's rounded subtotal with (SEMANTICS 13). amount is 0 on those rows; their
-- quantity is the piece's share.
-- The share is applied as the exact fraction period_seconds / cycle_seconds (the period's
-- 18-place `share` is that fraction rounded), then rounded half away from zero at 12 places.
with invoices as (
    select * from {{ ref('int_invoices') }}
),

rate_cards as (
    select * from {{ ref('stg_catalog__rate_cards') }}
    where rate_card_type in ('FIXED_FEE', 'MINIMUM_COMMITMENT')
),

card_periods as (
    select
        i.invoice_id,
        i.account_id,
        i.assignment_id,
        i.plan_id,
        i.currency,
        i.minor_units,
        c.rate_card_id,
        c.rate_card_type as line_type,
        c.catalog_version,
        c.card_position,
        coalesce(c.proration, false) as proration,
        i.is_cut,
        i.share,
        i.period_seconds,
        i.cycle_seconds,
        c.amount as unit_amount,
        -- Prorated only when asked to and when the period is a piece of its cycle.
        c.rate_card_type = 'FIXED_FEE' and coalesce(c.proration, false) and i.is_cut
            as is_prorated
    from invoices as i
    inner join rate_cards as c on c.plan_id = i.plan_id
),

priced as (
    select
        *,
        cast(case
            when is_prorated or (line_type = 'MINIMUM_COMMITMENT' and is_cut)
                then {{ prorate('1', 'period_seconds', 'cycle_seconds') }}
            else 1
        end as {{ exact_decimal() }}) as quantity,
        cast(case
            when line_type <> 'FIXED_FEE' then 0
            when is_prorated then {{ prorate('unit_amount', 'period_seconds', 'cycle_seconds') }}
            else unit_amount
        end as {{ exact_decimal() }}) as amount,
        cast(case
            when line_type <> 'MINIMUM_COMMITMENT' then null
            when is_cut then {{ prorate('unit_amount', 'period_seconds', 'cycle_seconds') }}
            else unit_amount
        end as {{ exact_decimal() }}) as commitment_amount
    from card_periods
),

final as (
    select
        invoice_id,
        account_id,
        assignment_id,
        plan_id,
        currency,
        rate_card_id,
        line_type,
        catalog_version,
        card_position,
        proration,
        is_cut,
        share,
        quantity,
        cast(unit_amount as {{ exact_decimal() }}) as unit_amount,
        amount,
        {{ round_money('amount', 'minor_units') }} as rounded_amount,
        commitment_amount
    from priced
)

select * from final

-- One invoice per account × billing cycle (× plan assignment): finalized ones as stored when
-- they fell due, drafts as computed by this run.
with finalized as (
    select * from {{ source('billing', 'finalized_invoices') }}
),

drafts as (
    select * from {{ source('billing', 'draft_invoices') }}
),

final as (
    select
        invoice_id,
        account_id,
        customer_id,
        plan_id,
        assignment_id,
        currency,
        period_start,
        period_end,
        status,
        subtotal,
        minimum_commitment_true_up,
        credits_applied,
        total,
        wallet_applied,
        amount_paid,
        amount_due,
        finalized_at,
        needs_review,
        review_reasons
    from finalized
    union all
    select
        invoice_id,
        account_id,
        customer_id,
        plan_id,
        assignment_id,
        currency,
        period_start,
        period_end,
        status,
        subtotal,
        minimum_commitment_true_up,
        credits_applied,
        total,
        wallet_applied,
        amount_paid,
        amount_due,
        finalized_at,
        needs_review,
        review_reasons
    from drafts
)

select * from final

-- One invoice per account × billing cycle (× plan assignment): finalized ones as stored when
-- they fell due, drafts as computed by this run.
{%- set columns = [
    'invoice_id', 'account_id', 'customer_id', 'plan_id', 'assignment_id', 'currency',
    'period_start', 'period_end', 'status', 'subtotal', 'minimum_commitment_true_up',
    'credits_applied', 'total', 'wallet_applied', 'amount_paid', 'amount_due',
    'finalized_at', 'needs_review', 'review_reasons',
] %}

with invoices as (
{%- for stored in ['finalized_invoices', 'draft_invoices'] %}
    select {{ columns | join(', ') }}
    from {{ source('billing', stored) }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
)

select * from invoices

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
),

-- Payments recorded by the collect_payment workflow (docs/payments.md): the stored invoice
-- never changes; its amount_paid, amount_due and status move on here.
payments as (
    select invoice_id, sum(amount) as paid
    from {{ source('billing', 'invoice_payments') }}
    group by invoice_id
)

select
{%- for column in columns %}
    {%- if column == 'status' %}
    case when i.status = 'DUE' and i.amount_due - coalesce(p.paid, 0) <= 0 then 'PAID'
         else i.status end as status
    {%- elif column in ('amount_paid', 'amount_due') %}
    cast(i.{{ column }} {{ '+' if column == 'amount_paid' else '-' }} coalesce(p.paid, 0)
         as decimal(38, 12)) as {{ column }}
    {%- else %}
    i.{{ column }}
    {%- endif %}{{ ',' if not loop.last }}
{%- endfor %}
from invoices i
left join payments p using (invoice_id)

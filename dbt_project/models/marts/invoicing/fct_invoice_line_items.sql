-- Every invoice line; finalized invoices' lines as stored, drafts' as computed this run.
{{ config(materialized=view_unless_spark()) }}
with lines as (
    select * from {{ source('billing', 'finalized_invoice_line_items') }}
    union all
    select * from {{ source('billing', 'draft_invoice_line_items') }}
)

select * from lines

{#- Incremental models keep the rows of finalized invoices (never recomputed, SEMANTICS 8)
    and recompute the rows of open ones each night, so a night's work grows with the new
    events and the open cycles, not with history. One scheme for every such model:
      pre_hook:  delete the rows of open invoices (delete_open_invoice_rows)
      body:      select only rows of open invoices (is_open_invoice), plus new records
    On Spark the same two steps become an insert_overwrite of the open partitions. -#}

{% macro finalized_invoice_ids() -%}
    select invoice_id from {{ ref('stg_billing__invoice_periods') }}
    where finalized_through_record_seq is not null
{%- endmacro %}

{% macro is_open_invoice(invoice_column) -%}
    ({{ invoice_column }} is null or {{ invoice_column }} not in ({{ finalized_invoice_ids() }}))
{%- endmacro %}

{% macro delete_open_invoice_rows() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ is_open_invoice('invoice_id') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{{
    config(
        materialized='incremental',
        incremental_strategy=open_rows_strategy(),
        partition_by=open_rows_partition(),
        pre_hook="{{ remove_rows_where(open_invoice_rows()) }}",
        post_hook="{{ write_schema_file() }}",
    )
}}
-- depends_on: {{ ref('stg_billing__invoice_periods') }}
-- Every (event, usage meter) pair where the event's schema is the meter's and the meter's
-- filter holds, with the meter's value for the event (SEMANTICS 4). Filters and values are
-- JSON Logic compiled to SQL by rule_engine.sql when the catalog is loaded; meter_key (the
-- value's key for counting distinct values) is compiled for UNIQUE_COUNT meters only.
-- depends_on: {{ source('catalog', 'usage_meters') }}
{%- set meters = [] -%}
{%- if execute -%}
    {%- set meters = run_query(
        "select meter_id, schema_name, filter_sql, coalesce(value_sql, 'null'), "
        ~ "coalesce(key_sql, 'null') from "
        ~ source('catalog', 'usage_meters') ~ " order by meter_id"
    ).rows -%}
{%- endif %}

-- Each meter's branch reads the resolved events with its schema's filter (inlined).
with resolved_events as {{ inlined() }} (
    select record_seq, event_id, account_id, assignment_id, invoice_id, is_past_grace_period,
           event_timestamp, schema_name, attributes, dimensions
    from {{ ref('int_event_records_resolved') }}
    where status = 'RESOLVED'
    {% if is_incremental() %}
        -- Open invoices are matched again (the catalog may have changed); finalized ones
        -- keep their rows; new records of finalized cycles (late events) are matched once.
        and ({{ is_open_invoice('invoice_id') }}
             or record_seq > (select coalesce(max(record_seq), 0) from {{ this }}))
    {% endif %}
),

matches as (
{%- for meter_id, schema_name, filter_sql, value_sql, key_sql in meters %}
    select
        record_seq, event_id, account_id, assignment_id, invoice_id, is_past_grace_period,
        event_timestamp,
        '{{ meter_id | replace("'", "''") }}' as meter_id,
        cast({{ value_sql }} as {{ exact_decimal() }}) as meter_value,
        cast({{ key_sql }} as {{ dbt.type_string() }}) as meter_key
    from resolved_events
    where schema_name = '{{ schema_name | replace("'", "''") }}' and ({{ filter_sql }})
    {% if not loop.last %}union all{% endif %}
{%- else %}
    select record_seq, event_id, account_id, assignment_id, invoice_id, is_past_grace_period,
           event_timestamp,
           cast(null as {{ dbt.type_string() }}) as meter_id,
           cast(null as {{ exact_decimal() }}) as meter_value,
           cast(null as {{ dbt.type_string() }}) as meter_key
    from resolved_events where 1 = 0
{%- endfor %}
)

select *{{ rating_window(open_invoice_rows()) }} from matches

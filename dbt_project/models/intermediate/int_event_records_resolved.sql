-- Every received record with the catalog-dependent part of its status (SEMANTICS 3 and the
-- "which status wins" order): account, schema, declared attributes, plan in force.
-- Incremental (macros/incremental.sql): a record's row is rewritten while its invoice is
-- open or, with no invoice, while ingestion accepted it (its catalog-dependent status may
-- change), so fixing the catalog bills events already received if their cycle is open.
-- Rows of finalized invoices and ingestion's rejections are written once and kept.
-- status RESOLVED means "ready for meter matching" (METERED / NO_MATCHING_METERS come next).
{{
    config(
        materialized='incremental',
        incremental_strategy=open_rows_strategy(),
        partition_by=open_rows_partition(),
        pre_hook="{{ remove_rows_where(open_record_rows()) }}",
        post_hook="{{ write_schema_file() }}",
    )
}}
-- depends_on: {{ ref('stg_billing__invoice_periods') }}
with records as (
    select * from {{ ref('stg_landing__event_records') }}
    {% if is_incremental() %}
        -- The rows the pre_hook deleted, and new records.
        where record_seq not in (select record_seq from {{ this }})
    {% endif %}
),

accounts as (
    select * from {{ ref('stg_catalog__accounts') }}
),

account_keys as (
    -- An event's accountId may be an account id or one of its aliases.
    select account_id as account_key, account_id from accounts
    union all
    select alias as account_key, account_id from {{ ref('stg_catalog__account_aliases') }}
),

schemas as (
    select
        s.schema_name,
        {{ array_of('a.attribute_name') }} as declared_attributes
    from {{ ref('stg_catalog__event_schemas') }} as s
    left join {{ ref('stg_catalog__event_schema_attributes') }} as a
        on a.schema_name = s.schema_name
    group by s.schema_name
),

assignments as (
    select * from {{ ref('stg_catalog__plan_assignments') }}
),

periods as (
    select * from {{ ref('stg_billing__invoice_periods') }}
),

resolved as (
    select
        r.*,
        k.account_id,
        a.customer_id,
        a.timezone,
        s.schema_name is not null as schema_defined,
        {{ keys_not_in('r.attributes', 'coalesce(s.declared_attributes, ' ~ empty_string_array() ~ ')') }} as undeclared_attributes,
        cast({{ to_local_timestamp('r.event_timestamp', 'a.timezone') }} as date) as event_local_date
    from records as r
    left join account_keys as k on r.ingest_status = 'ACCEPTED' and k.account_key = r.account_ref
    left join accounts as a on a.account_id = k.account_id
    left join schemas as s on r.ingest_status = 'ACCEPTED' and s.schema_name = r.schema_name
),

with_plan as (
    select
        r.*,
        p.assignment_id,
        p.plan_id
    from resolved as r
    left join assignments as p
        on p.account_id = r.account_id
        -- effective_from and effective_until are local days, both covered (SEMANTICS).
        and r.event_local_date >= p.effective_from
        and (p.effective_until is null or r.event_local_date <= p.effective_until)
),

with_period as (
    select
        r.*,
        i.invoice_id,
        i.cycle_start,
        i.cycle_end,
        -- Received by a run after the one that finalized its invoice (SEMANTICS 8). On an
        -- incremental night every record resolved into a finalized invoice was not billed by
        -- it (its billed records are kept rows): a new late record, or one whose account or
        -- plan was only added to the catalog after its cycle was finalized.
        {% if is_incremental() %}
        i.finalized_through_record_seq is not null as is_past_grace_period
        {% else %}
        coalesce(r.record_seq > i.finalized_through_record_seq, false) as is_past_grace_period
        {% endif %}
    from with_plan as r
    left join periods as i
        on i.assignment_id = r.assignment_id
        and r.event_timestamp >= i.period_start
        and r.event_timestamp < i.period_end
),

final as (
    select
        record_seq,
        raw_ref,
        source_file,
        received_at,
        event_id,
        event_timestamp,
        schema_name,
        account_ref,
        account_id,
        customer_id,
        timezone,
        event_local_date,
        attributes,
        dimensions,
        assignment_id,
        plan_id,
        invoice_id,
        cycle_start,
        cycle_end,
        is_past_grace_period,
        case
            when ingest_status <> 'ACCEPTED' then ingest_status
            when account_id is null then 'ACCOUNT_NOT_FOUND'
            when not schema_defined then 'SCHEMA_NOT_DEFINED'
            when {{ array_size('undeclared_attributes') }} > 0 then 'INVALID'
            when assignment_id is null then 'NO_PRICE_PLAN'
            else 'RESOLVED'
        end as status,
        case
            when ingest_status <> 'ACCEPTED' then ingest_reason
            when account_id is null then 'no account or alias ''' || account_ref || ''''
            when not schema_defined then 'event schema ''' || schema_name || ''' is not defined'
            when {{ array_size('undeclared_attributes') }} > 0
                then 'attribute ''' || {{ array_element('undeclared_attributes', 1) }}
                     || ''' is not declared in schema ''' || schema_name || ''''
            when assignment_id is null
                then 'account ''' || account_id || ''' has no plan assignment on '
                     || cast(event_local_date as {{ dbt.type_string() }})
        end as status_reason
    from with_period
)

select *{{ rating_window(open_record_rows()) }} from final

-- One row per invoice-to-be: a billing cycle, or the piece of it a plan assignment covers.
with source as (
    select * from {{ source('billing', 'invoice_periods') }}
),

renamed as (
    select
        -- A stable id: the same account, assignment and period start always give the same id.
        'inv_' || {{ dbt.hash("account_id || '|' || assignment_id || '|' || cast(" ~ epoch_seconds('period_start') ~ " as " ~ dbt.type_string() ~ ")") }}
            as invoice_id,
        account_id,
        assignment_id,
        plan_id,
        timezone,
        cycle_start,
        cycle_end,
        period_start,
        period_end,
        share,
        period_days,
        period_seconds,
        cycle_seconds,
        is_cut,
        finalizes_at,
        -- Set once the invoice is finalized: the last record it billed; later records of
        -- this period are PAST_GRACE_PERIOD.
        finalized_through_record_seq
    from source
)

select * from renamed

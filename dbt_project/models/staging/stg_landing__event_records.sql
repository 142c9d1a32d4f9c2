-- The ingestion log, renamed for the models downstream: one row per record received.
with source as (
    select * from {{ source('landing', 'event_records') }}
),

renamed as (
    select
        record_seq,
        raw_ref,
        source_file,
        received_at,
        event_id,
        event_id_derived,
        event_timestamp,
        schema_name,
        account_ref,
        attributes,
        dimensions,
        ingest_status,
        status_reason as ingest_reason
    from source
)

select * from renamed

with source as (select * from {{ source('catalog', 'event_schemas') }})
select schema_name from source

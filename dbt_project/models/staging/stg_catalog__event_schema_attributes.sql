with source as (select * from {{ source('catalog', 'event_schema_attributes') }})
select schema_name, attribute_name, unit from source

with source as (select * from {{ source('catalog', 'usage_meters') }})
select meter_id, meter_name, schema_name, aggregation, value_logic, filter_logic from source

-- One usage meter: its name and aggregation, for usage pages that name meters in words.
select meter_id, meter_name, schema_name, aggregation
from {{ ref('stg_catalog__usage_meters') }}

-- ISO 4217 currencies with their minor units: each invoice line is rounded once, half-up,
-- to its currency's minor unit (SEMANTICS 17: USD 2, JPY 0, KWD 3).
with source as (
    select * from {{ source('catalog', 'currencies') }}
),

renamed as (
    select
        currency,
        minor_units
    from source
)

select * from renamed

{#- A meter's units from its group's aggregates (SEMANTICS 5), one definition for usage per
    billing cycle and usage per day: COUNT events; SUM, MAX of the value; UNIQUE_COUNT of
    distinct value keys; LATEST the latest event's value. An empty group has 0 units. -#}
{% macro meter_units(aggregates, latest_value) -%}
    cast(case {{ aggregates }}.aggregation
        when 'COUNT' then {{ aggregates }}.events
        when 'SUM' then coalesce({{ aggregates }}.value_sum, 0)
        when 'MAX' then coalesce({{ aggregates }}.value_max, 0)
        when 'UNIQUE_COUNT' then {{ aggregates }}.value_distinct
        when 'LATEST' then coalesce({{ latest_value }}, 0)
    end as {{ exact_decimal() }})
{%- endmacro %}

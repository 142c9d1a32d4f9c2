{#- The column is a key: one row per key value that is null or held by more than one row.
    dbt's unique and not_null in one query, so one dbt node and one Dagster check instead of
    two: each node costs the nightly build ~50 ms whatever its query (docs/operations.md). -#}
{% test primary_key(model, column_name) %}
select {{ column_name }}, count(*) as rows_with_key
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1
{% endtest %}

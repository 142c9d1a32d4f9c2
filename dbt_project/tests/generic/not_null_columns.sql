{#- Rows with a null in any of the columns fail. One query, one dbt node and one Dagster
    check per model instead of one per column: each node costs the nightly build ~50 ms
    whatever its query (docs/operations.md). -#}
{% test not_null_columns(model, columns) %}
select * from {{ model }}
where {% for column in columns %}{{ column }} is null{{ " or " if not loop.last }}{% endfor %}
{% endtest %}

{#- Rows where the expression is false fail the test (dbt_utils' test, written here: no dbt packages). -#}
{% test expression_is_true(model, expression, where="1=1") %}
select * from {{ model }} where {{ where }} and not ({{ expression }})
{% endtest %}

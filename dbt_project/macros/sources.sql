{#- The Python assets' tables are the dbt sources. On DuckDB they are in the same file: nothing
    to do. On Spark they are Parquet folders the assets publish under
    TALLYHOUSE_SPARK_DIR/sources/<schema>/<table> (lib/engines/spark.py): every dbt run first
    registers each one again as the external table its source names, so it reads the files
    as they are now (a dropped and re-created table has no stale file listing). -#}
{% macro register_sources() -%}
    {{ return(adapter.dispatch('register_sources', 'tallyhouse')()) }}
{%- endmacro %}

{% macro default__register_sources() -%}{%- endmacro %}

{% macro spark__register_sources() -%}
    {%- if execute -%}
        {%- set root = env_var('TALLYHOUSE_SPARK_DIR', '../data/spark') ~ '/sources' -%}
        {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- do run_query('create database if not exists ' ~ source.schema) -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query(
                'create table ' ~ relation ~ " using parquet location '"
                ~ root ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Views on DuckDB are created again only when their SQL changed.

    Every night builds the staging views and the pass-through marts (view_unless_spark) again,
    and dbt's own view materialization spends five statements on each (create a temporary
    view, two renames, a commit, a drop: ~50 ms) to end with the view it had. A DuckDB view is
    its SQL, bound again by each query (a column added or retyped upstream shows through), so
    a view whose compiled SQL is unchanged is already what a new one would be. Its comment
    holds the md5 of the SQL it was created from; the view is replaced (one statement) only
    when that differs, the relation is not a view, or the build is a full refresh.

    Not supported here, as the project uses none of them: grants, persist_docs, contracts,
    sql_header. -#}
{% materialization view, adapter='duckdb' %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set fingerprint = 'dbt view sql md5 ' ~ local_md5(sql) -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- call statement('main', fetch_result=True) -%}
    select comment from duckdb_views()
    where database_name = '{{ target_relation.database }}'
      and schema_name = '{{ target_relation.schema }}'
      and view_name = '{{ target_relation.identifier }}'
  {%- endcall -%}
  {#- A row here is a view of this name: the lookup answers "is it a view" too. -#}
  {%- set found = load_result('main')['table'].rows -%}
  {%- set unchanged = found | length == 1 and found[0][0] == fingerprint
        and not should_full_refresh() -%}

  {%- if not unchanged -%}
    {%- if existing_relation is not none and not existing_relation.is_view -%}
      {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}
    {%- call statement('create_view') -%}
      create or replace view {{ target_relation }} as (
        {{ sql }}
      )
    {%- endcall -%}
    {%- call statement('fingerprint_view') -%}
      comment on view {{ target_relation }} is '{{ fingerprint }}'
    {%- endcall -%}
  {%- endif -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#-
    Reading the Parquet lake. DuckDB's read_parquet fails on a glob that matches no file, so each lake
    source carries its glob in `meta.lake_glob`; `lake_relation` returns the source when files exist and
    an empty relation of the declared columns otherwise. A new home with an empty lake thus builds empty
    marts instead of failing.

    The lake may be on object storage (DISCOURSE_LAKE = s3://bucket/prefix; docs/scaling.md): the globs
    and read_parquet calls then go through the S3 filesystem the dbt plugin
    (discourse.transform.dbt_plugin) registers on dbt's connection; nothing here changes.
-#}

{% macro lake_glob(source_name, table_name) -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
                                         | selectattr('name', 'equalto', table_name) | first -%}
    {{- node.meta.get('lake_glob') or node.config.meta.get('lake_glob') -}}
{%- endmacro %}


{% macro lake_has_files(glob) -%}
    {%- set result = run_query("select count(*) from glob('" ~ glob | replace("'", "''") ~ "')") -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}


{#- `empty_columns` maps column name -> DuckDB type, used only when the lake has no files yet. -#}
{% macro lake_relation(source_name, table_name, empty_columns) -%}
    {%- set rel = source(source_name, table_name) -%}
    {%- if not execute or lake_has_files(lake_glob(source_name, table_name)) -%}
        {{ rel }}
    {%- else -%}
        (
            select
            {%- for name, type in empty_columns.items() %}
                cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
            where false
        )
    {%- endif -%}
{%- endmacro %}

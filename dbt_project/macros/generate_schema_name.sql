{#-
    Schemas are exactly the configured name (`staging`, `intermediate`, `marts`, `reference`), not
    dbt's default `<target schema>_<custom>`; models without one land in the target schema (`main`).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

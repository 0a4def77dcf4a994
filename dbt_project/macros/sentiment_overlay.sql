{#-
    The trained sentiment overlay (`discourse.transform.sentiment_train.train_overlay`) is an optional Parquet file:
    var `sentiment_overlay` when set, else `$DISCOURSE_REFERENCE/sentiment_overlay.parquet`. When the
    file is absent, `sentiment_overlay_relation` is an empty relation of the same columns, so the shipped
    lexicons alone score posts.
-#}

{% macro sentiment_overlay_path() -%}
    {{- var('sentiment_overlay', none) or (env_var('DISCOURSE_REFERENCE', '') ~ '/sentiment_overlay.parquet') -}}
{%- endmacro %}


{% macro sentiment_overlay_relation() -%}
    {%- set path = sentiment_overlay_path() | replace("'", "''") -%}
    {%- if execute and lake_has_files(path) -%}
        (select term, weight, source from read_parquet('{{ path }}'))
    {%- else -%}
        (select cast(null as varchar) as term, cast(null as double) as weight,
                cast(null as varchar) as source where false)
    {%- endif -%}
{%- endmacro %}

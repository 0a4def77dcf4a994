{#-
    Emotion helpers (models/intermediate/emotion, docs/emotion.md).

    The trained emotion overlay (`discourse.transform.emotion_train.train_overlay`) is an optional
    Parquet file: var `emotion_overlay` when set, else `$DISCOURSE_REFERENCE/emotion_overlay.parquet`.
    When the file is absent, `emotion_overlay_relation` is an empty relation of the same columns, so the
    shipped lexicon alone labels posts.
-#}

{% macro emotion_overlay_path() -%}
    {{- var('emotion_overlay', none) or (env_var('DISCOURSE_REFERENCE', '') ~ '/emotion_overlay.parquet') -}}
{%- endmacro %}


{% macro emotion_overlay_relation() -%}
    {%- set path = emotion_overlay_path() | replace("'", "''") -%}
    {%- if execute and lake_has_files(path) -%}
        (select term, emotion, weight, source from read_parquet('{{ path }}'))
    {%- else -%}
        (select cast(null as varchar) as term, cast(null as varchar) as emotion,
                cast(null as double) as weight, cast(null as varchar) as source where false)
    {%- endif -%}
{%- endmacro %}


{#- The emotions, in the order of var `emotion_labels` (also the tie-break order). -#}
{% macro emotion_labels() -%}
    {{- return(var('emotion_labels')) -}}
{%- endmacro %}


{#- `struct_pack(anger := <expr with the emotion name>, ...)` over the emotions. -#}
{% macro emotion_struct(template) -%}
    struct_pack(
    {%- for e in emotion_labels() %}
        {{ e }} := {{ template | replace('EMOTION', e) }}{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

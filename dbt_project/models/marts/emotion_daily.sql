{#-
    Date × platform × language × primary topic: posts, the share of each emotion label (neutral
    included), the mean intensity of each emotion (`posts.emotion_scores`) and the dominant emotion
    (the commonest non-neutral label; ties in the order of var `emotion_labels`). Only combinations
    that have posts. The report charts emotion over time per topic from it. Incremental: a night
    recomputes the dates its affected posts are or were on (macros/incremental.sql).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(direct=true, content=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

{%- set labels = emotion_labels() -%}

with

posts as (

    select created_date, platform, lang, primary_topic, emotion_label, emotion_scores
    from {{ ref('posts') }}
    {{ affected_dates_only('created_date', direct=true, content=true) }}

),

daily as (

    select
        created_date as activity_date,
        platform,
        lang,
        primary_topic as topic_id,
        count(*) as posts,
        count(*) filter (where emotion_label <> 'neutral') as emotional_posts,
        {%- for e in labels + ['neutral'] %}
        round(avg(case when emotion_label = '{{ e }}' then 1.0 else 0.0 end), 4) as {{ e }}_share,
        {%- endfor %}
        {%- for e in labels %}
        round(avg(emotion_scores.{{ e }}::decimal(18, 4)), 4) as mean_{{ e }}_score{{ "," if not loop.last }}
        {%- endfor %}
    from posts
    group by all

),

final as (

    select
        *,
        case
            when emotional_posts > 0 then
                ['{{ labels | join("', '") }}'][
                    list_position(
                        [{% for e in labels %}{{ e }}_share{{ ", " if not loop.last }}{% endfor %}],
                        greatest({% for e in labels %}{{ e }}_share{{ ", " if not loop.last }}{% endfor %})
                    )
                ]
        end as dominant_emotion
    from daily

)

select * from final

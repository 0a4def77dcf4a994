{#-
    Date × platform × language × primary topic: posts, mean sentiment score and the shares of
    negative, neutral and positive posts. Only combinations that have posts.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(direct=true, content=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

with

posts as (

    select created_date, platform, lang, primary_topic, sentiment_score, sentiment_label
    from {{ ref('posts') }}
    {{ affected_dates_only('created_date', direct=true, content=true) }}

),

final as (

    select
        created_date as activity_date,
        platform,
        lang,
        primary_topic as topic_id,
        count(*) as posts,
        round(avg(sentiment_score::decimal(18, 4)), 4) as mean_sentiment_score,
        round(avg(case when sentiment_label = 'negative' then 1.0 else 0.0 end), 4) as negative_share,
        round(avg(case when sentiment_label = 'neutral' then 1.0 else 0.0 end), 4) as neutral_share,
        round(avg(case when sentiment_label = 'positive' then 1.0 else 0.0 end), 4) as positive_share
    from posts
    group by all

)

select * from final

{#-
    Date × platform × language × primary topic: posts, mean sentiment score and the shares of
    negative, neutral and positive posts. Only combinations that have posts.
-#}

with

posts as (

    select post_uid, platform, created_date from {{ ref('stg_lake__posts') }}

),

langs as (

    select post_uid, lang from {{ ref('int_posts_detected_lang') }}

),

sentiment as (

    select post_uid, sentiment_score, sentiment_label from {{ ref('int_posts_scored_sentiment') }}

),

topics as (

    select post_uid, primary_topic from {{ ref('int_posts_tagged_topics') }}

),

final as (

    select
        p.created_date as activity_date,
        p.platform,
        l.lang,
        t.primary_topic as topic_id,
        count(*) as posts,
        round(avg(s.sentiment_score), 4) as mean_sentiment_score,
        round(avg(case when s.sentiment_label = 'negative' then 1.0 else 0.0 end), 4) as negative_share,
        round(avg(case when s.sentiment_label = 'neutral' then 1.0 else 0.0 end), 4) as neutral_share,
        round(avg(case when s.sentiment_label = 'positive' then 1.0 else 0.0 end), 4) as positive_share
    from posts as p
    inner join langs as l
        on l.post_uid = p.post_uid
    inner join sentiment as s
        on s.post_uid = p.post_uid
    inner join topics as t
        on t.post_uid = p.post_uid
    group by all

)

select * from final

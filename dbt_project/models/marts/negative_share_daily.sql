{#-
    Date × primary topic × language, over all platforms: posts, the share of them labelled negative
    (and positive), and mean sentiment, with the topic's labels. The usual "how negative is the talk
    about X, in Indonesian and in English" question without a group by.

    Computed from sentiment_daily (plain table, rebuilt each night: a few rows per date). Shares there
    are rounded to 4 places, so they are weighted by posts in exact decimals and rounded again: a
    share here is within 0.0001 of the share over the posts themselves.
-#}

with

sentiment_daily as (

    select * from {{ ref('sentiment_daily') }}

),

topics as (

    select topic_id, label_en, label_id from {{ ref('topics') }}

),

summed as (

    select
        activity_date,
        topic_id,
        lang,
        sum(posts) as posts,
        count(distinct platform) as platforms,
        sum(negative_share::decimal(18, 4) * posts) as negative_weighted,
        sum(positive_share::decimal(18, 4) * posts) as positive_weighted,
        sum(mean_sentiment_score::decimal(18, 4) * posts) as sentiment_weighted
    from sentiment_daily
    group by activity_date, topic_id, lang

),

final as (

    select
        s.activity_date,
        s.topic_id,
        t.label_en as topic_label_en,
        t.label_id as topic_label_id,
        s.lang,
        s.posts,
        s.platforms,
        round(s.negative_weighted / s.posts, 4)::double as negative_share,
        round(s.positive_weighted / s.posts, 4)::double as positive_share,
        round(s.sentiment_weighted / s.posts, 4)::double as mean_sentiment_score
    from summed as s
    left join topics as t
        on t.topic_id = s.topic_id

)

select * from final

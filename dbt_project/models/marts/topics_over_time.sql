{#-
    Topic volume over time with the topic's labels, all platforms together, per day and per ISO week
    (`period` = 'day' or 'week', `period_start_date` = the day, or the week's Monday): posts whose
    primary topic it is, posts tagged with it, engagement, mean sentiment, share of voice and whether
    a platform flagged a spike in the period.

    Computed from topic_daily (plain table, rebuilt each night). Distinct authors are not summed
    across platforms or days (they would double-count); read topic_daily per platform and day for them.
-#}

with

topic_daily as (

    select * from {{ ref('topic_daily') }}

),

topics as (

    select topic_id, label_en, label_id from {{ ref('topics') }}

),

periods as (

    select 'day' as period, activity_date as period_start_date, * exclude (activity_date)
    from topic_daily
    union all
    select 'week' as period, date_trunc('week', activity_date)::date as period_start_date,
           * exclude (activity_date)
    from topic_daily

),

summed as (

    select
        period,
        period_start_date,
        topic_id,
        sum(volume) as volume,
        sum(tagged_posts) as tagged_posts,
        sum(engagement) as engagement,
        sum(mean_sentiment_score::decimal(18, 4) * volume) as sentiment_weighted,
        bool_or(is_spike) as has_spike
    from periods
    group by period, period_start_date, topic_id

),

totals as (

    select period, period_start_date, sum(volume) as period_volume
    from summed
    group by period, period_start_date

),

final as (

    select
        s.period,
        s.period_start_date,
        s.topic_id,
        t.label_en as topic_label_en,
        t.label_id as topic_label_id,
        s.volume::bigint as volume,
        s.tagged_posts::bigint as tagged_posts,
        s.engagement::bigint as engagement,
        round(s.sentiment_weighted / nullif(s.volume, 0), 4)::double as mean_sentiment_score,
        round(s.volume / nullif(p.period_volume, 0), 4)::double as share_of_voice,
        s.has_spike
    from summed as s
    inner join totals as p
        on p.period = s.period and p.period_start_date = s.period_start_date
    left join topics as t
        on t.topic_id = s.topic_id

)

select * from final

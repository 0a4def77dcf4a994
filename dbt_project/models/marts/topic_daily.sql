{#-
    Date × platform × topic: volume (posts whose primary topic it is), posts tagged with it at all,
    distinct authors, engagement, mean sentiment, share of voice and a spike score.

    The grid is dense: every topic of the taxonomy on every date from the first to the last post of
    each platform, with zeros, so baselines and charts see quiet days.

    Spike score (a robust z-score against the trailing baseline): the baseline is the previous
    `spike_baseline_days` days of the same platform and topic (zeros included);
    spike_score = (volume − median) / max(1.4826 × MAD, √median, 1), where MAD is the median absolute
    deviation (√median keeps small Poisson-like counts from looking like spikes; 1 keeps the score
    finite). It is NULL until `spike_min_baseline_days` previous days exist. is_spike = spike_score ≥
    `spike_threshold` and volume ≥ `spike_min_volume`.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(content=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

with

posts as (

    select
        post_uid,
        platform,
        created_date,
        author_key,
        like_count,
        share_count,
        reply_count,
        topics,
        primary_topic,
        sentiment_score
    from {{ ref('posts') }}
    {{ affected_dates_only('created_date', margin_days=var('spike_baseline_days', 7), content=true) }}

),

-- Each platform's first and last date over all posts: the grid runs between them.
platform_ranges as (

    select platform, min(created_date) as first_date, max(created_date) as last_date
    from {{ ref('posts') }}
    group by platform

),

taxonomy as (

    select topic_id from {{ ref('topics') }}

),

enriched as (

    select
        *,
        coalesce(like_count, 0) + coalesce(share_count, 0) + coalesce(reply_count, 0) as engagement
    from posts

),

primary_counts as (

    select
        created_date as activity_date,
        platform,
        primary_topic as topic_id,
        count(*) as volume,
        count(distinct author_key) as distinct_authors,
        sum(engagement) as engagement,
        avg(sentiment_score::decimal(18, 4)) as mean_sentiment_score
    from enriched
    group by all

),

tagged_counts as (

    select created_date as activity_date, platform, topic_id, count(*) as tagged_posts
    from (select created_date, platform, unnest(topics) as topic_id from enriched)
    group by all

),

platform_days as (

    select platform, activity_date
    from (
        select
            platform,
            unnest(generate_series(first_date, last_date, interval 1 day))::date as activity_date
        from platform_ranges
    )
    {{ affected_dates_only('activity_date', margin_days=var('spike_baseline_days', 7), content=true) }}

),

day_totals as (

    select created_date as activity_date, platform, count(*) as platform_volume
    from posts
    group by all

),

grid as (

    select d.activity_date, d.platform, t.topic_id
    from platform_days as d
    cross join taxonomy as t

),

daily as (

    select
        g.activity_date,
        g.platform,
        g.topic_id,
        coalesce(p.volume, 0) as volume,
        coalesce(tc.tagged_posts, 0) as tagged_posts,
        coalesce(p.distinct_authors, 0) as distinct_authors,
        coalesce(p.engagement, 0) as engagement,
        round(p.mean_sentiment_score, 4) as mean_sentiment_score,
        round(coalesce(p.volume, 0) / nullif(coalesce(dt.platform_volume, 0), 0), 4) as share_of_voice
    from grid as g
    left join primary_counts as p
        on p.activity_date = g.activity_date and p.platform = g.platform and p.topic_id = g.topic_id
    left join tagged_counts as tc
        on tc.activity_date = g.activity_date and tc.platform = g.platform and tc.topic_id = g.topic_id
    left join day_totals as dt
        on dt.activity_date = g.activity_date and dt.platform = g.platform

),

baselines as (

    select
        *,
        list(volume) over (
            partition by platform, topic_id
            order by activity_date
            rows between {{ var('spike_baseline_days', 7) }} preceding and 1 preceding
        ) as previous_volumes
    from daily

),

scored as (

    select
        * exclude (previous_volumes),
        len(previous_volumes) as baseline_days,
        case
            when len(previous_volumes) >= {{ var('spike_min_baseline_days', 5) }}
                then list_median(previous_volumes)
        end as baseline_median,
        case
            when len(previous_volumes) >= {{ var('spike_min_baseline_days', 5) }}
                then list_median(list_transform(
                    previous_volumes, lambda v: abs(v - list_median(previous_volumes))
                ))
        end as baseline_mad
    from baselines

),

final as (

    select
        activity_date,
        platform,
        topic_id,
        volume,
        tagged_posts,
        distinct_authors,
        engagement,
        mean_sentiment_score,
        share_of_voice,
        baseline_days,
        baseline_median,
        round(
            (volume - baseline_median)
            / greatest(1.4826 * baseline_mad, sqrt(baseline_median), 1),
            4
        ) as spike_score,
        coalesce(
            (volume - baseline_median) / greatest(1.4826 * baseline_mad, sqrt(baseline_median), 1)
                >= {{ var('spike_threshold', 3.0) }}
            and volume >= {{ var('spike_min_volume', 5) }},
            false
        ) as is_spike
    from scored
    {{ affected_dates_only('activity_date', content=true) }}

)

select * from final

{#-
    Emerging stories: groups of terms and hashtags that spike together in the same posts on one day
    (clusters from `int_emerging_term_clusters`), with their posts, growth and who carried them. How
    stories nobody put in the taxonomy surface: every cluster counts, whether or not its posts got a
    topic, and `no_topic_share` / `top_topic` say how much of it the taxonomy saw
    (docs/emerging-stories.md).

    A story's posts are the day's posts using one of its anchor terms (its `emerging_anchor_terms`
    strongest spikes that day) and at least `emerging_min_post_terms` of its terms in all.
    Baseline: the same count on each of the previous `spike_baseline_days` days of the dataset
    (zeros included; the calendar starts at the first post), summarised as in `trending_terms`:
    growth = posts / max(median, 1); spike_score = (posts − median) / max(1.4826 × MAD, √median, 1).
    first_seen_at: the earliest such post on the day or its baseline days.
    A story is kept when it has at least `emerging_min_posts` original posts (not reposts) and
    `emerging_min_authors` accounts, spikes (spike_score ≥ `spike_threshold`), and is not made of everyday vocabulary only
    (some term was unused on more than 1 − `emerging_everyday_share` of the baseline days); the kept
    ones are ranked per day by spike score, then posts. `new_terms`: terms unused on every baseline day.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates() }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

{%- set baseline_days = var('spike_baseline_days', 7) %}

with

story_terms as (

    select * from {{ ref('int_emerging_term_clusters') }}
    {{ affected_dates_only('activity_date') }}

),

stories as (

    select
        activity_date,
        story_id,
        count(*) as term_count,
        list(
            case when term_type = 'hashtag' then '#' || term else term end order by term_rank
        ) as terms
    from story_terms
    group by activity_date, story_id

),

-- Per story, the posts of its day and of its baseline days using one of its anchor terms and enough
-- of its other terms, and how many of them.
matches as (

    select
        s.activity_date,
        s.story_id,
        o.activity_date as post_date,
        o.post_uid,
        count(*) as matched_terms
    from story_terms as s
    inner join {{ ref('int_emerging_post_terms') }} as o
        on o.term = s.term
        and o.term_type = s.term_type
        and o.activity_date between s.activity_date - interval {{ baseline_days }} day and s.activity_date
    group by all
    having count(*) >= {{ var('emerging_min_post_terms', 2) }}
        and bool_or(s.term_rank <= {{ var('emerging_anchor_terms', 3) }})

),

posts as (

    select
        post_uid,
        created_at,
        platform,
        lang,
        author_key,
        sentiment_score,
        misinfo_risk_score,
        primary_topic,
        kind = 'repost' as is_repost,
        coalesce(like_count, 0) + coalesce(share_count, 0) + coalesce(reply_count, 0) as engagement
    from {{ ref('posts') }}
    {{ affected_dates_only('created_date', margin_days=baseline_days) }}

),

day_posts as (

    select m.activity_date, m.story_id, m.matched_terms, p.*
    from matches as m
    inner join posts as p
        on p.post_uid = m.post_uid
    where m.post_date = m.activity_date

),

topic_counts as (

    select activity_date, story_id, primary_topic, count(*) as n
    from day_posts
    where primary_topic is not null and primary_topic <> 'other'
    group by all

),

top_topics as (

    select activity_date, story_id, primary_topic as top_topic, n as top_topic_posts
    from topic_counts
    qualify row_number() over (partition by activity_date, story_id order by n desc, primary_topic) = 1

),

day_figures as (

    select
        activity_date,
        story_id,
        count(*) as posts,
        count(*) filter (where not is_repost) as original_posts,
        count(distinct author_key) as authors,
        list(distinct platform order by platform) as platforms,
        list(distinct lang order by lang) filter (where lang is not null) as languages,
        round(avg(sentiment_score::decimal(18, 4)), 4) as mean_sentiment,
        round(avg(misinfo_risk_score::decimal(18, 4)), 4) as mean_misinfo_risk,
        round(avg(case when primary_topic is null or primary_topic = 'other' then 1 else 0 end), 4)
            as no_topic_share,
        list(post_uid order by matched_terms desc, engagement desc, post_uid)[
            1:{{ var('emerging_sample_posts', 5) }}
        ] as sample_post_uids
    from day_posts
    group by activity_date, story_id

),

first_seen as (

    select m.activity_date, m.story_id, min(p.created_at) as first_seen_at
    from matches as m
    inner join posts as p
        on p.post_uid = m.post_uid
    group by all

),

-- On how many of the baseline days each term was used at all (posts with any of the story's terms).
term_presence as (

    select
        s.activity_date,
        s.story_id,
        s.term_rank,
        case when s.term_type = 'hashtag' then '#' || s.term else s.term end as shown,
        count(distinct o.activity_date) as days_used
    from story_terms as s
    left join {{ ref('int_emerging_post_terms') }} as o
        on o.term = s.term
        and o.term_type = s.term_type
        and o.activity_date between s.activity_date - interval {{ baseline_days }} day
            and s.activity_date - interval 1 day
    group by all

),

presence as (

    select
        activity_date,
        story_id,
        min(days_used) as min_days_used,
        coalesce(list(shown order by term_rank) filter (where days_used = 0), []) as new_terms
    from term_presence
    group by all

),

-- The label: the top terms, new ones (unused on every baseline day) first, leaving out a word already
-- shown in one of the story's bigrams and a word that is also one of its hashtags.
label_terms as (

    select
        t.activity_date,
        t.story_id,
        case when t.term_type = 'hashtag' then '#' || t.term else t.term end as shown,
        t.term_rank,
        pr.days_used = 0 as is_new
    from story_terms as t
    inner join term_presence as pr
        on pr.activity_date = t.activity_date and pr.story_id = t.story_id and pr.term_rank = t.term_rank
    where not (
        t.term_type = 'term' and exists (
            select 1 from story_terms as o
            where o.activity_date = t.activity_date and o.story_id = t.story_id
                and (
                    (o.term_type = 'bigram' and list_contains(string_split(o.term, ' '), t.term))
                    or (o.term_type = 'hashtag' and o.term = t.term)
                )
        )
    )
    qualify row_number() over (partition by t.activity_date, t.story_id order by is_new desc, t.term_rank)
        <= {{ var('emerging_label_terms', 3) }}

),

labels as (

    select activity_date, story_id, string_agg(shown, ' · ' order by is_new desc, term_rank) as label
    from label_terms
    group by all

),

calendar_start as (

    select min(created_date) as first_date from {{ ref('posts') }}

),

-- Posts per previous day (zeros on days without), over the days of the dataset.
previous_days as (

    select
        s.activity_date,
        s.story_id,
        unnest(generate_series(
            greatest(s.activity_date - interval {{ baseline_days }} day, c.first_date),
            s.activity_date - interval 1 day,
            interval 1 day
        ))::date as post_date
    from stories as s
    cross join calendar_start as c

),

previous_counts as (

    select d.activity_date, d.story_id, d.post_date, count(m.post_uid) as n
    from previous_days as d
    left join matches as m
        on m.activity_date = d.activity_date and m.story_id = d.story_id and m.post_date = d.post_date
    group by all

),

baselines as (

    select
        activity_date,
        story_id,
        count(*) as days_in_baseline,
        median(n) as baseline_median,
        median(abs(n - med)) as baseline_mad
    from (
        select *, median(n) over (partition by activity_date, story_id) as med
        from previous_counts
    )
    group by activity_date, story_id

),

scored as (

    select
        s.activity_date,
        s.story_id,
        l.label,
        s.terms,
        s.term_count,
        f.posts,
        f.original_posts,
        f.authors,
        coalesce(b.baseline_median, 0) as baseline_median,
        round(f.posts / greatest(coalesce(b.baseline_median, 0), 1), 2) as growth,
        round(
            (f.posts - coalesce(b.baseline_median, 0))
                / greatest(1.4826 * coalesce(b.baseline_mad, 0), sqrt(coalesce(b.baseline_median, 0)), 1),
            4
        ) as spike_score,
        fs.first_seen_at,
        pr.new_terms,
        f.platforms,
        f.languages,
        f.mean_sentiment,
        f.mean_misinfo_risk,
        f.no_topic_share,
        t.top_topic,
        round(coalesce(t.top_topic_posts, 0) / f.posts, 4) as top_topic_share,
        f.sample_post_uids
    from stories as s
    inner join labels as l on l.activity_date = s.activity_date and l.story_id = s.story_id
    inner join day_figures as f on f.activity_date = s.activity_date and f.story_id = s.story_id
    left join first_seen as fs on fs.activity_date = s.activity_date and fs.story_id = s.story_id
    left join baselines as b on b.activity_date = s.activity_date and b.story_id = s.story_id
    left join top_topics as t on t.activity_date = s.activity_date and t.story_id = s.story_id
    inner join presence as pr on pr.activity_date = s.activity_date and pr.story_id = s.story_id
    where f.original_posts >= {{ var('emerging_min_posts', 5) }}
        and f.authors >= {{ var('emerging_min_authors', 3) }}
        -- everyday vocabulary alone is not a story: some term must have been missing on more than
        -- (1 - emerging_everyday_share) of the baseline days
        and (
            b.days_in_baseline is null
            or pr.min_days_used < {{ var('emerging_everyday_share', 0.7) }} * b.days_in_baseline
        )

),

spiking as (

    select * from scored
    where spike_score >= {{ var('spike_threshold', 3.0) }}

),

final as (

    select
        activity_date,
        story_id,
        row_number() over (
            partition by activity_date order by spike_score desc, posts desc, story_id
        ) as story_rank,
        * exclude (activity_date, story_id)
    from spiking

)

select * from final

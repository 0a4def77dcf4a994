{#-
    The dates an incremental night recomputes in the daily marts, one row each:

    * `direct`: a date an affected post was on before the night or is on after it (its counts change);
    * otherwise a date whose trailing baseline reaches back to a direct date (up to
      `spike_baseline_days` later), or a date the dense per-platform grid of `topic_daily` or the
      calendar of `trending_terms` gains or loses (a post before the first or after the last date),
      with the days whose baselines that changes;
    * `content_direct`: a date a post whose lake row changed was or is on (`int_posts_delta_keys`);
      `content`: such a date, a grid or calendar date, or a day whose baseline reaches back to one.

    The marts built from what a post says (terms, trends, emerging-story terms, sentiment, emotion,
    topics: `affected_dates_only(..., content=true)`) recompute the `content` dates only. A post
    whose coordination figures alone changed (a late post joined its cluster, weeks away) changes
    its misinformation risk and cluster but none of those, so its date is not among them: with
    clusters spanning the history, such posts are on almost every date, and the text marts would
    recount the whole history each night.

    Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */
/* depends_on: {{ ref('int_posts_delta_keys') }} */

{%- set previous_posts = previous_relation('marts', 'posts') %}
{%- set baseline_days = var('spike_baseline_days', 7) %}

{%- if incremental_night() and previous_posts is not none %}

with

affected as (

    select post_uid, old_created_date, old_platform from {{ ref('int_posts_affected') }}

),

new_rows as (

    select post_uid, platform, created_date from {{ ref('int_posts_delta') }}

),

direct_dates as (

    select old_created_date as activity_date from affected where old_created_date is not null
    union
    select created_date from new_rows

),

-- The dates of the posts whose lake rows changed (new, re-ingested, re-mapped or removed). The other
-- affected posts only changed their coordination figures (a cluster they are in grew, started or
-- went); their text, language, sentiment, emotion, topics and terms are as before.
content_dates as (

    select a.old_created_date as activity_date
    from affected as a
    where a.old_created_date is not null
        and a.post_uid in (select post_uid from {{ ref('int_posts_delta_keys') }})
    union
    select n.created_date
    from new_rows as n
    where n.post_uid in (select post_uid from {{ ref('int_posts_delta_keys') }})

),

kept as (

    select platform, created_date
    from {{ previous_posts }}
    where post_uid not in (select post_uid from affected)

),

old_ranges as (

    select platform, min(created_date) as first_date, max(created_date) as last_date
    from {{ previous_posts }}
    group by platform

),

new_ranges as (

    select platform, min(created_date) as first_date, max(created_date) as last_date
    from (select platform, created_date from kept union all select platform, created_date from new_rows)
    group by platform

),

-- Per platform (topic_daily's grid) and over all platforms (trending_terms' calendar): the days
-- between the old and the new first date, and between the old and the new last date.
range_pairs as (

    select coalesce(o.first_date, n.first_date) as a, coalesce(n.first_date, o.first_date) as b
    from old_ranges as o full outer join new_ranges as n on n.platform = o.platform
    union all
    select coalesce(o.last_date, n.last_date), coalesce(n.last_date, o.last_date)
    from old_ranges as o full outer join new_ranges as n on n.platform = o.platform
    union all
    select (select min(first_date) from old_ranges), (select min(first_date) from new_ranges)
    union all
    select (select max(last_date) from old_ranges), (select max(last_date) from new_ranges)

),

range_dates as (

    select unnest(generate_series(least(a, b), greatest(a, b), interval 1 day))::date as activity_date
    from range_pairs
    where a is not null and b is not null and a <> b

),

seeds as (

    select activity_date, false as content from direct_dates
    union all
    select activity_date, true from content_dates
    union all
    select activity_date, true from range_dates

),

extended as (

    select s.activity_date + k.k::integer as activity_date, bool_or(s.content) as content
    from seeds as s, range(0, {{ baseline_days }} + 1) as k(k)
    group by all

)

select
    e.activity_date,
    e.activity_date in (select activity_date from direct_dates) as direct,
    e.content,
    e.activity_date in (select activity_date from content_dates) as content_direct
from extended as e
where e.activity_date is not null

{%- else %}

select null::date as activity_date, null::boolean as direct, null::boolean as content,
    null::boolean as content_direct
where false

{%- endif %}

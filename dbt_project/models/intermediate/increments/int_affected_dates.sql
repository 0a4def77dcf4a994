{#-
    The dates an incremental night recomputes in the daily marts, one row each:

    * `direct`: a date an affected post was on before the night or is on after it (its counts change);
    * otherwise a date whose trailing baseline reaches back to a direct date (up to
      `spike_baseline_days` later), or a date the dense per-platform grid of `topic_daily` or the
      calendar of `trending_terms` gains or loses (a post before the first or after the last date),
      with the days whose baselines that changes.

    Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

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

    select activity_date from direct_dates
    union
    select activity_date from range_dates

),

extended as (

    select distinct s.activity_date + k.k::integer as activity_date
    from seeds as s, range(0, {{ baseline_days }} + 1) as k(k)

)

select
    e.activity_date,
    e.activity_date in (select activity_date from direct_dates) as direct
from extended as e
where e.activity_date is not null

{%- else %}

select null::date as activity_date, null::boolean as direct where false

{%- endif %}

{#-
    Which posts use which spiking terms: the input of emerging-story clustering (docs/emerging-stories.md).

    One row per (post, term) for every term, bigram or hashtag that is trending (`trending_terms`,
    `is_trending`) on the post's date or on one of the `spike_baseline_days` days after it: the day's
    co-occurrences and the trailing baselines of the stories those terms form. Terms and bigrams are
    the post's own (`int_post_terms`, as `int_terms_counted_daily` counts them; a data test checks the
    counts agree), kept only where trending, so the table stays small. `is_repost`:
    the post is a repost (`kind` = 'repost'), which clustering leaves out.

    Incremental: the rows of a post depend on its tokens and on the trending terms of the days up to
    `spike_baseline_days` after it, so a night recomputes the posts of each affected date and of the
    `spike_baseline_days` days before it.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="
        {%- if is_incremental() -%}
            delete from {{ this }} {{ affected_dates_only('activity_date', margin_days=var('spike_baseline_days', 7), content=true) }}
        {%- else -%}
            select 1
        {%- endif -%}",
    post_hook="{{ insert_post_parts() }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

{%- set baseline_days = var('spike_baseline_days', 7) %}
{#- built in parts past `dbt_part_posts` posts (macros/post_parts.sql) -#}
{%- set parts = post_part_count(
    ref('posts'),
    '(select 1 from ' ~ ref('posts') ~ ' ' ~ affected_dates_only('created_date', margin_days=baseline_days, content=true) ~ ')') %}

with

posts as (

    select post_uid, created_date, hashtags, kind = 'repost' as is_repost from {{ ref('posts') }}
    {{ affected_dates_only('created_date', margin_days=baseline_days, content=true) }}
    {{ post_part_filter('post_uid', parts, 'and' if is_incremental() else 'where') }}

),

-- The terms trending on any day whose baseline the posts are in.
trending as (

    select activity_date, term, term_type
    from {{ ref('trending_terms') }}
    where is_trending
    {%- if is_incremental() %}
        and activity_date between
            (select min(activity_date) - interval {{ baseline_days }} day from {{ ref('int_affected_dates') }} where content)
            and (select max(activity_date) + interval {{ baseline_days }} day from {{ ref('int_affected_dates') }} where content)
    {%- endif %}

),

-- The post dates each trending term counts for: a term trending on day t is in the rows of the posts
-- of t and of the `spike_baseline_days` days before it (`t` between the post's date and that many
-- days after it). A small table, so the posts' terms meet it in one equi-join.
trend_days as (

    select distinct
        term,
        term_type,
        cast(activity_date - to_days(cast(k.k as integer)) as date) as created_date
    from trending, range(0, {{ baseline_days }} + 1) as k(k)

),

post_terms as materialized (

    select t.post_uid, p.created_date, p.is_repost, t.terms, t.bigrams
    from {{ ref('int_post_terms') }} as t
    inner join posts as p
        on p.post_uid = t.post_uid

),

-- A post's terms and bigrams (`int_post_terms`) and its hashtags, with its date.
found as (

    select post_uid, created_date, is_repost, unnest(terms) as term, 'term' as term_type
    from post_terms

    union all

    select post_uid, created_date, is_repost, unnest(bigrams), 'bigram'
    from post_terms

    union all

    select post_uid, created_date, is_repost, unnest({{ hashtag_terms('hashtags') }}), 'hashtag'
    from posts

),

final as (

    select distinct
        f.created_date as activity_date,
        f.post_uid,
        f.term,
        f.term_type,
        f.is_repost
    from found as f
    inner join trend_days as d
        on d.term = f.term
        and d.term_type = f.term_type
        and d.created_date = f.created_date

)

select * from final

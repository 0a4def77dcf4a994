{#-
    Terms, bigrams and hashtags whose daily frequency spikes against their own trailing baseline: how
    stories nobody put in the taxonomy show up. Counts come from `int_terms_counted_daily` (distinct
    posts per day; stopwords from the `stopwordsiso` package excluded).

    One row per (date, term, term_type) where the term was used by at least `trending_min_count`
    posts that day. The baseline is the previous `spike_baseline_days` calendar days of the whole
    dataset (from the first to the last date of any post; days without the term count as 0),
    summarised as in `topic_daily`:
    spike_score = (count − median) / max(1.4826 × MAD, √median, 1), NULL until
    `spike_min_baseline_days` previous days exist; is_trending = spike_score ≥ `spike_threshold`.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(content=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

with

counts as (

    select activity_date, term, term_type, post_count from {{ ref('int_terms_counted_daily') }}
    {{ affected_dates_only('activity_date', margin_days=var('spike_baseline_days', 7), content=true) }}

),

calendar as (

    select activity_date
    from (
        select unnest(generate_series(min(created_date), max(created_date), interval 1 day))::date
            as activity_date
        from {{ ref('posts') }}
    )
    {{ affected_dates_only('activity_date', margin_days=var('spike_baseline_days', 7), content=true) }}

),

frequent as (

    select distinct term, term_type
    from counts
    where post_count >= {{ var('trending_min_count', 5) }}

),

grid as (

    select c.activity_date, f.term, f.term_type, coalesce(n.post_count, 0) as post_count
    from frequent as f
    cross join calendar as c
    left join counts as n
        on n.term = f.term and n.term_type = f.term_type and n.activity_date = c.activity_date

),

baselines as (

    select
        *,
        list(post_count) over (
            partition by term, term_type
            order by activity_date
            rows between {{ var('spike_baseline_days', 7) }} preceding and 1 preceding
        ) as previous_counts
    from grid

),

scored as (

    select
        activity_date,
        term,
        term_type,
        post_count,
        case
            when len(previous_counts) >= {{ var('spike_min_baseline_days', 5) }}
                then list_median(previous_counts)
        end as baseline_median,
        case
            when len(previous_counts) >= {{ var('spike_min_baseline_days', 5) }}
                then list_median(list_transform(
                    previous_counts, lambda v: abs(v - list_median(previous_counts))
                ))
        end as baseline_mad
    from baselines
    where post_count >= {{ var('trending_min_count', 5) }}

),

final as (

    select
        activity_date,
        term,
        term_type,
        post_count,
        baseline_median,
        round(
            (post_count - baseline_median) / greatest(1.4826 * baseline_mad, sqrt(baseline_median), 1),
            4
        ) as spike_score,
        coalesce(
            (post_count - baseline_median) / greatest(1.4826 * baseline_mad, sqrt(baseline_median), 1)
                >= {{ var('spike_threshold', 3.0) }},
            false
        ) as is_trending
    from scored
    {{ affected_dates_only('activity_date', content=true) }}

)

select * from final

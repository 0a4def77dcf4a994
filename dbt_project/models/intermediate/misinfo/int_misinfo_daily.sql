{#-
    Date × platform: the misinformation-risk figures of `misinfo_daily` that depend only on that
    day's posts (counts, mean risk, the riskiest posts, low-credibility domains and matched claims).
    Incremental by date; `misinfo_daily` adds the coordinated clusters and the ranking, which span
    dates.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(direct=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

with

posts as (

    select post_uid, platform, created_date, misinfo_risk_score, misinfo_risk_level
    from {{ ref('posts') }}
    {{ affected_dates_only('created_date', direct=true) }}

),

links as (

    select post_uid, registered_domain, domain_rating from {{ ref('int_post_links_parsed') }}

),

claims as (

    select post_uid, claim_id, claim_text from {{ ref('int_posts_matched_claims') }}
    where not is_debunking

),

scored as (

    select post_uid, platform, created_date as activity_date, misinfo_risk_score, misinfo_risk_level
    from posts

),

daily as (

    select
        activity_date,
        platform,
        count(*) as posts,
        count(*) filter (where misinfo_risk_level = 'high') as high_risk_posts,
        count(*) filter (where misinfo_risk_level = 'medium') as medium_risk_posts,
        round(avg(misinfo_risk_score::decimal(18, 4)), 4) as mean_risk_score,
        round(count(*) filter (where misinfo_risk_level = 'high') / count(*), 4) as high_risk_share
    from scored
    group by all

),

top_posts as (

    select
        activity_date,
        platform,
        list({'post_uid': post_uid, 'risk_score': misinfo_risk_score}
             order by misinfo_risk_score desc, post_uid) as top_posts
    from (
        select *
        from scored
        where misinfo_risk_score > 0
        qualify row_number() over (
            partition by activity_date, platform order by misinfo_risk_score desc, post_uid
        ) <= {{ var('misinfo_top_n', 5) }}
    )
    group by all

),

domain_counts as (

    select s.activity_date, s.platform, l.registered_domain as domain, count(distinct s.post_uid) as posts
    from scored as s
    inner join links as l
        on l.post_uid = s.post_uid
    where l.domain_rating < {{ var('low_credibility_rating') }}
    group by all

),

top_domains as (

    select activity_date, platform,
           list({'domain': domain, 'posts': posts} order by posts desc, domain) as top_domains
    from (
        select * from domain_counts
        qualify row_number() over (
            partition by activity_date, platform order by posts desc, domain
        ) <= {{ var('misinfo_top_n', 5) }}
    )
    group by all

),

claim_counts as (

    select s.activity_date, s.platform, c.claim_id, any_value(c.claim_text) as claim_text,
           count(distinct s.post_uid) as posts
    from scored as s
    inner join claims as c
        on c.post_uid = s.post_uid
    group by s.activity_date, s.platform, c.claim_id

),

top_claims as (

    select activity_date, platform,
           sum(posts) as claim_matched_posts,
           list({'claim_id': claim_id, 'claim_text': claim_text, 'posts': posts}
                order by posts desc, claim_id) filter (where rn <= {{ var('misinfo_top_n', 5) }}) as top_claims
    from (
        select *, row_number() over (
            partition by activity_date, platform order by posts desc, claim_id
        ) as rn
        from claim_counts
    )
    group by all

),

combined as (

    select
        d.*,
        coalesce(c.claim_matched_posts, 0) as claim_matched_posts,
        coalesce(p.top_posts, []) as top_posts,
        coalesce(t.top_domains, []) as top_domains,
        coalesce(c.top_claims, []) as top_claims
    from daily as d
    left join top_posts as p
        on p.activity_date = d.activity_date and p.platform = d.platform
    left join top_domains as t
        on t.activity_date = d.activity_date and t.platform = d.platform
    left join top_claims as c
        on c.activity_date = d.activity_date and c.platform = d.platform

)

select * from combined

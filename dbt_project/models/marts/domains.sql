{#-
    One row per linked site: its credibility rating and where that comes from, and how it was shared.

    The site is the registered domain (`int_post_links_parsed`), except on shared hosts (a registered
    domain rated `user_generated`, e.g. blogspot.com, wordpress.com), where every subdomain is a
    different publisher and the host is kept (`beritaviral-terkini.blogspot.com`). The rating is the
    most specific one that matched the link (exact host, registered domain or `*.` suffix pattern;
    seed `domain_ratings` plus imported lists).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where coalesce(registered_domain, '') in (select registered_domain from {{ ref('int_affected_domains') }}){% else %}select 1{% endif %}",
) }}
/* depends_on: {{ ref('int_affected_domains') }} */

with

links as (

    select post_uid, host, registered_domain, is_short_link, rated_domain, domain_rating,
           domain_label, rating_source
    from {{ ref('int_post_links_parsed') }}
    {%- if is_incremental() %}
    where coalesce(registered_domain, '') in (select registered_domain from {{ ref('int_affected_domains') }})
    {%- endif %}

),

posts as (

    select post_uid, created_at, author_key, misinfo_risk_level from {{ ref('posts') }}

),

sited as (

    select
        l.*,
        case
            when l.domain_label = 'user_generated' and l.host <> l.registered_domain
                 and l.rated_domain = l.registered_domain
                then l.host
            else l.registered_domain
        end as domain
    from links as l

),

final as (

    select
        s.domain,
        any_value(s.registered_domain) as registered_domain,
        -- A site's links normally share one rating; if a more specific row rated some hosts, the
        -- lowest counts.
        min(s.domain_rating) as credibility_rating,
        arg_min(s.domain_label, s.domain_rating) as rating_label,
        arg_min(s.rating_source, s.domain_rating) as rating_source,
        arg_min(s.rated_domain, s.domain_rating) as rated_domain,
        case
            when min(s.domain_rating) is null then 'unrated'
            when min(s.domain_rating) < {{ var('low_credibility_rating') }} then 'low'
            when min(s.domain_rating) < 0.7 then 'mixed'
            else 'high'
        end as credibility_level,
        bool_or(s.is_short_link) as is_shortener,
        count(distinct s.post_uid) as posts,
        count(distinct p.author_key) as distinct_authors,
        count(distinct case when p.misinfo_risk_level = 'high' then s.post_uid end) as high_risk_posts,
        min(p.created_at) as first_seen_at,
        max(p.created_at) as last_seen_at
    from sited as s
    inner join posts as p
        on p.post_uid = s.post_uid
    group by s.domain

)

select * from final

{#-
    Pseudonymised author activity: one row per `author_key` (a keyed hash of platform and account
    id, so one account per key; posts without an author are left out). No handles, ever.
    Engagement is the sum of likes, shares and replies of the author's posts (a missing count is 0),
    as in topic_daily.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where author_key in (select author_key from {{ ref('int_affected_authors') }}){% else %}select 1{% endif %}",
) }}
/* depends_on: {{ ref('int_affected_authors') }} */

with

posts as (

    select
        post_uid,
        platform,
        author_key,
        created_at,
        sentiment_score,
        misinfo_risk_score,
        misinfo_risk_level,
        cluster_id,
        link_domains,
        like_count,
        share_count,
        reply_count
    from {{ ref('posts') }}
    where author_key is not null
    {%- if is_incremental() %}
        and author_key in (select author_key from {{ ref('int_affected_authors') }})
    {%- endif %}

),

activity as (

    select
        author_key,
        list(distinct platform order by platform) as platforms,
        count(*) as posts,
        min(created_at) as first_seen_at,
        max(created_at) as last_seen_at,
        round(avg(sentiment_score::decimal(18, 4)), 4) as mean_sentiment_score,
        round(avg(misinfo_risk_score::decimal(18, 4)), 4) as mean_risk_score,
        count(*) filter (where misinfo_risk_level = 'high') as high_risk_posts,
        coalesce(sum(like_count), 0)::bigint as likes,
        coalesce(sum(share_count), 0)::bigint as shares,
        coalesce(sum(reply_count), 0)::bigint as replies
    from posts
    group by author_key

),

author_clusters as (

    select author_key, list(distinct cluster_id order by cluster_id) as cluster_ids
    from posts
    where cluster_id is not null
    group by author_key

),

author_domains as (

    select author_key, list(distinct registered_domain order by registered_domain) as linked_domains
    from (select author_key, unnest(link_domains) as registered_domain from posts)
    group by author_key

),

final as (

    select
        a.author_key,
        a.platforms,
        a.posts,
        a.first_seen_at,
        a.last_seen_at,
        a.mean_sentiment_score,
        a.mean_risk_score,
        a.high_risk_posts,
        a.likes,
        a.shares,
        a.replies,
        a.likes + a.shares + a.replies as engagement,
        len(coalesce(c.cluster_ids, [])) as clusters_joined,
        coalesce(c.cluster_ids, []) as cluster_ids,
        len(coalesce(d.linked_domains, [])) as domains_linked,
        coalesce(d.linked_domains, []) as linked_domains
    from activity as a
    left join author_clusters as c
        on c.author_key = a.author_key
    left join author_domains as d
        on d.author_key = a.author_key

)

select * from final

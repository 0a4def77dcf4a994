{#-
    Pseudonymised author activity: one row per `author_key` (a keyed hash of platform and account
    id, so one account per key; posts without an author are left out). No handles, ever.
-#}

with

posts as (

    select post_uid, platform, author_key, created_at
    from {{ ref('stg_lake__posts') }}
    where author_key is not null

),

sentiment as (

    select post_uid, sentiment_score from {{ ref('int_posts_scored_sentiment') }}

),

misinfo as (

    select post_uid, misinfo_risk_score, misinfo_risk_level from {{ ref('int_posts_scored_misinfo') }}

),

clustered as (

    select post_uid, cluster_id from {{ ref('int_posts_clustered') }}

),

links as (

    select post_uid, registered_domain from {{ ref('int_post_links_parsed') }}

),

activity as (

    select
        p.author_key,
        list(distinct p.platform order by p.platform) as platforms,
        count(*) as posts,
        min(p.created_at) as first_seen_at,
        max(p.created_at) as last_seen_at,
        round(avg(s.sentiment_score), 4) as mean_sentiment_score,
        round(avg(m.misinfo_risk_score), 4) as mean_risk_score,
        count(*) filter (where m.misinfo_risk_level = 'high') as high_risk_posts
    from posts as p
    left join sentiment as s
        on s.post_uid = p.post_uid
    left join misinfo as m
        on m.post_uid = p.post_uid
    group by p.author_key

),

author_clusters as (

    select p.author_key, list(distinct k.cluster_id order by k.cluster_id) as cluster_ids
    from posts as p
    inner join clustered as k
        on k.post_uid = p.post_uid
    group by p.author_key

),

author_domains as (

    select p.author_key, list(distinct l.registered_domain order by l.registered_domain) as linked_domains
    from posts as p
    inner join links as l
        on l.post_uid = p.post_uid
    group by p.author_key

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

{#-
    Date × platform: how much misinformation risk there was and where it came from, ranked.

    Besides counts and the mean risk, each row lists the `misinfo_top_n` riskiest posts, the
    low-credibility domains linked most, the fact-checked claims matched most and the coordinated
    clusters active that day on that platform.

    priority_score ranks the rows for whoever reviews them first: the strongest coordinated
    cluster active that day (its coordination_score × its posts' mean risk), or, on days without one,
    half the share of high-risk posts. Coordinated campaigns of risky content thus come first, and a
    day that is merely noisy does not outrank one. priority_rank = 1 is the top row.
-#}

with

posts as (

    select post_uid, platform, created_date, misinfo_risk_score, misinfo_risk_level, cluster_id
    from {{ ref('posts') }}

),

links as (

    select post_uid, registered_domain, domain_rating from {{ ref('int_post_links_parsed') }}

),

claims as (

    select post_uid, claim_id, claim_text from {{ ref('int_posts_matched_claims') }}
    where not is_debunking

),

clusters as (

    select cluster_id, n_accounts, priority_score from {{ ref('coordinated_clusters') }}

),

scored as (

    select post_uid, platform, created_date as activity_date, misinfo_risk_score, misinfo_risk_level, cluster_id
    from posts

),

daily as (

    select
        activity_date,
        platform,
        count(*) as posts,
        count(*) filter (where misinfo_risk_level = 'high') as high_risk_posts,
        count(*) filter (where misinfo_risk_level = 'medium') as medium_risk_posts,
        round(avg(misinfo_risk_score), 4) as mean_risk_score,
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

cluster_days as (

    select activity_date, platform, cluster_id, count(*) as posts
    from scored
    where cluster_id is not null
    group by all

),

top_clusters as (

    select
        d.activity_date,
        d.platform,
        sum(d.posts) as coordinated_posts,
        max(c.priority_score) as top_cluster_priority,
        list({'cluster_id': d.cluster_id, 'n_accounts': c.n_accounts, 'posts': d.posts,
              'priority_score': c.priority_score}
             order by c.priority_score desc, d.cluster_id) as top_clusters
    from cluster_days as d
    inner join clusters as c
        on c.cluster_id = d.cluster_id
    group by all

),

combined as (

    select
        d.*,
        coalesce(k.coordinated_posts, 0) as coordinated_posts,
        coalesce(c.claim_matched_posts, 0) as claim_matched_posts,
        coalesce(p.top_posts, []) as top_posts,
        coalesce(t.top_domains, []) as top_domains,
        coalesce(c.top_claims, []) as top_claims,
        coalesce(k.top_clusters[1:{{ var('misinfo_top_n', 5) }}], []) as top_clusters,
        round(greatest(coalesce(k.top_cluster_priority, 0), 0.5 * d.high_risk_share), 4) as priority_score
    from daily as d
    left join top_posts as p
        on p.activity_date = d.activity_date and p.platform = d.platform
    left join top_domains as t
        on t.activity_date = d.activity_date and t.platform = d.platform
    left join top_claims as c
        on c.activity_date = d.activity_date and c.platform = d.platform
    left join top_clusters as k
        on k.activity_date = d.activity_date and k.platform = d.platform

),

final as (

    select
        *,
        row_number() over (
            order by priority_score desc, high_risk_posts desc, activity_date desc, platform
        ) as priority_rank
    from combined

)

select * from final

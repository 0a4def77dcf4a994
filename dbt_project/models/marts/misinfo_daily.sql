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

daily as (

    select * from {{ ref('int_misinfo_daily') }}

),

posts as (

    select post_uid, platform, created_date, cluster_id
    from {{ ref('posts') }}
    where cluster_id is not null

),

clusters as (

    select cluster_id, n_accounts, priority_score from {{ ref('coordinated_clusters') }}

),

cluster_days as (

    select created_date as activity_date, platform, cluster_id, count(*) as posts
    from posts
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
        d.activity_date,
        d.platform,
        d.posts,
        d.high_risk_posts,
        d.medium_risk_posts,
        d.mean_risk_score,
        d.high_risk_share,
        coalesce(k.coordinated_posts, 0) as coordinated_posts,
        d.claim_matched_posts,
        d.top_posts,
        d.top_domains,
        d.top_claims,
        coalesce(k.top_clusters[1:{{ var('misinfo_top_n', 5) }}], []) as top_clusters,
        round(greatest(coalesce(k.top_cluster_priority, 0), 0.5 * d.high_risk_share), 4) as priority_score
    from daily as d
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

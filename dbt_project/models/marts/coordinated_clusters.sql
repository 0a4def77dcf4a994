{#-
    Coordinated clusters: near-identical texts posted by at least `coordination_min_accounts`
    distinct accounts within `coordination_window_minutes`, across platforms. The detection (text
    normalisation, exact hash, MinHash bands, bursts and windows) is in `int_posts_clustered`. One row
    per cluster, with its members' risk and the claims and domains they carry, ranked by
    coordination score × mean risk.
-#}

with

members as (

    select post_uid, cluster_id, first_seen_at, last_seen_at, n_posts, n_accounts, platforms,
           span_minutes, coordination_score
    from {{ ref('int_posts_clustered') }}

),

posts as (

    select post_uid, created_at, text, misinfo_risk_score from {{ ref('posts') }}

),

claims as (

    select post_uid, claim_id from {{ ref('int_posts_matched_claims') }}
    where not is_debunking

),

links as (

    select post_uid, registered_domain from {{ ref('int_post_links_parsed') }}

),

per_cluster as (

    select
        m.cluster_id,
        any_value(m.first_seen_at) as first_seen_at,
        any_value(m.last_seen_at) as last_seen_at,
        any_value(m.span_minutes) as span_minutes,
        any_value(m.n_posts) as n_posts,
        any_value(m.n_accounts) as n_accounts,
        any_value(m.platforms) as platforms,
        any_value(m.coordination_score) as coordination_score,
        arg_min(p.text, p.created_at) as sample_text,
        list(m.post_uid order by p.created_at, m.post_uid) as post_uids,
        round(avg(p.misinfo_risk_score::decimal(18, 4)), 4) as mean_risk_score
    from members as m
    inner join posts as p
        on p.post_uid = m.post_uid
    group by m.cluster_id

),

cluster_claims as (

    select m.cluster_id, list(distinct c.claim_id order by c.claim_id) as claim_ids
    from members as m
    inner join claims as c
        on c.post_uid = m.post_uid
    group by m.cluster_id

),

cluster_domains as (

    select m.cluster_id, list(distinct l.registered_domain order by l.registered_domain) as domains
    from members as m
    inner join links as l
        on l.post_uid = m.post_uid
    group by m.cluster_id

),

final as (

    select
        c.cluster_id,
        cast(c.first_seen_at as date) as first_seen_date,
        c.first_seen_at,
        c.last_seen_at,
        c.span_minutes,
        c.n_posts,
        c.n_accounts,
        c.platforms,
        c.sample_text,
        c.post_uids,
        coalesce(cc.claim_ids, []) as claim_ids,
        coalesce(cd.domains, []) as domains,
        c.coordination_score,
        c.mean_risk_score,
        round(c.coordination_score * c.mean_risk_score, 4) as priority_score,
        row_number() over (
            order by c.coordination_score * c.mean_risk_score desc, c.n_accounts desc, c.cluster_id
        ) as priority_rank
    from per_cluster as c
    left join cluster_claims as cc
        on cc.cluster_id = c.cluster_id
    left join cluster_domains as cd
        on cd.cluster_id = c.cluster_id

)

select * from final

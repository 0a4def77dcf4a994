{#-
    Superspreaders of low-credibility content: the FIB-index of each account, per month and over all
    time (`period` = 'YYYY-MM' or 'all'), as OSoMe's top-FIBers defines it. An account has index h
    when h of its own posts sharing a low-credibility link were each reposted at least h times.

    * A link is low-credibility when its site is rated below `low_credibility_rating` (seed
      `domain_ratings` plus imported lists: the rating `int_post_links_parsed` matched).
    * A post's reposts: the larger of what the platform counted (`share_count`) and the reposts of it
      in the lake (`int_post_edges`).
    * Own posts: everything but the account's reposts (a repost spreads someone else's post).

    Accounts with at least one low-credibility link post, ranked within each period. Rebuilt every
    night from the link posts only (a compact input).
-#}

with

link_posts as (

    select
        l.post_uid,
        bool_or(l.domain_rating < {{ var('low_credibility_rating') }}) as low_cred,
        list(distinct case when l.domain_rating < {{ var('low_credibility_rating') }}
                           then coalesce(l.rated_domain, l.registered_domain) end) as low_cred_domains
    from {{ ref('int_post_links_parsed') }} as l
    group by l.post_uid

),

own as (

    select p.post_uid, p.author_key, p.created_date, coalesce(p.share_count, 0) as share_count,
           lp.low_cred, lp.low_cred_domains
    from {{ ref('posts') }} as p
    inner join link_posts as lp
        on lp.post_uid = p.post_uid
    where p.kind <> 'repost'
        and p.author_key is not null

),

lake_reposts as (

    select target_post_uid as post_uid, count(distinct post_uid) as reposts
    from {{ ref('int_post_edges') }}
    where edge_type = 'repost'
        and target_post_uid in (select post_uid from own where low_cred)
    group by target_post_uid

),

counted as (

    select o.*, greatest(o.share_count, coalesce(r.reposts, 0)) as reposts
    from own as o
    left join lake_reposts as r
        on r.post_uid = o.post_uid

),

periods as (

    select *, strftime(created_date, '%Y-%m') as period, date_trunc('month', created_date)::date as period_start
    from counted
    union all
    select *, 'all', null::date from counted

),

ranked as (

    select
        *,
        case when low_cred then row_number() over (
            partition by period, author_key, low_cred order by reposts desc, post_uid
        ) end as rank_in_account
    from periods

),

per_account as (

    select
        period,
        any_value(period_start) as period_start,
        author_key,
        coalesce(max(case when low_cred and reposts >= rank_in_account then rank_in_account end), 0)
            as fib_index,
        count(*) filter (where low_cred) as low_cred_posts,
        count(*) as link_posts,
        round(count(*) filter (where low_cred) / count(*), 4) as low_cred_share,
        coalesce(sum(reposts) filter (where low_cred), 0) as low_cred_reposts,
        list_sort(list_distinct(flatten(list(low_cred_domains) filter (where low_cred)))) as low_cred_domains,
        (list(post_uid order by reposts desc, post_uid) filter (where low_cred))[1:5] as sample_post_uids
    from ranked
    group by period, author_key
    having count(*) filter (where low_cred) > 0

),

final as (

    select
        period,
        period_start,
        author_key,
        fib_index,
        low_cred_posts,
        link_posts,
        low_cred_share,
        low_cred_reposts,
        list_filter(low_cred_domains, lambda d: d is not null) as low_cred_domains,
        sample_post_uids,
        row_number() over (
            partition by period order by fib_index desc, low_cred_reposts desc, author_key
        ) as rank
    from per_account

)

select * from final

{#-
    Buzzer signals: for each account active in the network window (the last `network_window_days`
    days up to the newest post), how much it behaves like an amplifier: reposting the same posts as
    other accounts within seconds to minutes, again and again with the same partners, reposting
    rather than writing, posting at few hours of the day, and taking part in coordinated clusters.

    `amplifier_score` (0..1) combines them with the documented weights below; `amplifier_reasons`
    names, in words, every cue that adds at least 0.05 to the score (so a score of 0.25 or more always
    comes with a reason). It is a signal for analysts to read, not a verdict (docs/network.md).

    * `lockstep_share`: the share of its reposts with another account's repost of the same post within
      `amplifier_lockstep_seconds`.
    * `repeat_partners`: accounts it reposted in lockstep with at least `amplifier_min_co_reposts`
      times. Pairs are counted within buckets of `amplifier_lockstep_seconds` (a repost and its
      neighbour bucket); a bucket with more than `amplifier_max_bucket_reposts` reposts of one post
      (a viral burst, organic or not) is left out of the pair count, which bounds its cost.
    * `repost_share`: its reposts / its posts.
    * `hour_entropy`: Shannon entropy of its posting hours (UTC), normalised to 0..1 (1 = spread over
      all 24 hours evenly); low values on many posts are machine-like schedules.
    * `burstiness`: (sd - mean) / (sd + mean) of the gaps between its posts (-1 regular, 0 random,
      1 bursty).
    * `coordinated_clusters`: distinct coordination clusters (`coordinated_clusters`) its posts are in.
-#}

{%- set window_days = var('network_window_days', 30) %}
{%- set lockstep = var('amplifier_lockstep_seconds', 300) %}

with

bounds as (

    select max(created_date) as end_date from {{ ref('posts') }}

),

posts as (

    select p.post_uid, p.author_key, p.kind, p.created_at, p.cluster_id
    from {{ ref('posts') }} as p, bounds as b
    where p.created_date > b.end_date - {{ window_days }}
        and p.author_key is not null

),

reposts as (

    select e.post_uid, e.source_author_key as author_key, e.target_post_uid, epoch(e.created_at) as ts
    from {{ ref('int_post_edges') }} as e, bounds as b
    where e.edge_type = 'repost'
        and e.target_post_uid is not null
        and e.created_date > b.end_date - {{ window_days }}

),

near as (

    select
        *,
        floor(ts / {{ lockstep }})::bigint as bucket,
        count(*) over (
            partition by target_post_uid order by ts
            range between {{ lockstep }} preceding and {{ lockstep }} following
        ) - 1 as near_reposts
    from reposts

),

bucket_sizes as (

    select target_post_uid, bucket, count(*) as n
    from near
    group by all

),

small as (

    select n.*
    from near as n
    inner join bucket_sizes as s
        on s.target_post_uid = n.target_post_uid and s.bucket = n.bucket
    where s.n <= {{ var('amplifier_max_bucket_reposts', 200) }}

),

pairs as (

    select a.author_key as a, b.author_key as b, count(distinct a.target_post_uid) as co_reposts
    from small as a
    inner join small as b
        on b.target_post_uid = a.target_post_uid
        and b.bucket between a.bucket - 1 and a.bucket + 1
        and b.author_key <> a.author_key
        and abs(b.ts - a.ts) <= {{ lockstep }}
    group by all

),

partners as (

    select a as author_key, count(*) as repeat_partners
    from pairs
    where co_reposts >= {{ var('amplifier_min_co_reposts', 3) }}
    group by a

),

lockstep as (

    select author_key, count(*) as reposts_in_edges, count(*) filter (where near_reposts > 0) as lockstep_reposts
    from near
    group by author_key

),

hours as (

    select author_key, hour(created_at) as h, count(*) as n
    from posts
    group by all

),

entropy as (

    select author_key,
           -sum((n / total) * ln(n / total)) / ln(24) as hour_entropy
    from (select *, sum(n) over (partition by author_key) as total from hours)
    group by author_key

),

gaps as (

    select author_key,
           epoch(created_at) - lag(epoch(created_at)) over (partition by author_key order by created_at) as gap
    from posts

),

burst as (

    select author_key,
           case when count(gap) >= 2 and (stddev_pop(gap) + avg(gap)) > 0
                then (stddev_pop(gap) - avg(gap)) / (stddev_pop(gap) + avg(gap)) end as burstiness
    from gaps
    group by author_key

),

activity as (

    select
        author_key,
        count(*) as posts,
        count(*) filter (where kind = 'repost') as reposts,
        count(distinct cluster_id) as coordinated_clusters
    from posts
    group by author_key
    having count(*) >= {{ var('amplifier_min_posts', 5) }}

),

measured as (

    select
        a.author_key,
        a.posts,
        a.reposts,
        round(a.reposts / a.posts, 4) as repost_share,
        coalesce(l.lockstep_reposts, 0) as lockstep_reposts,
        round(coalesce(l.lockstep_reposts / nullif(l.reposts_in_edges, 0), 0), 4) as lockstep_share,
        coalesce(p.repeat_partners, 0) as repeat_partners,
        round(e.hour_entropy, 4) as hour_entropy,
        round(b.burstiness, 4) as burstiness,
        a.coordinated_clusters
    from activity as a
    left join lockstep as l on l.author_key = a.author_key
    left join partners as p on p.author_key = a.author_key
    left join entropy as e on e.author_key = a.author_key
    left join burst as b on b.author_key = a.author_key

),

scored as (

    select
        *,
        -- hour concentration counts only with enough posts to tell a schedule from chance
        case when posts >= 10 then greatest(0, 1 - coalesce(hour_entropy, 1)) else 0 end as schedule_cue,
        round(
            0.30 * lockstep_share
            + 0.25 * least(1, repeat_partners / 5.0)
            + 0.15 * repost_share
            + 0.20 * least(1, coordinated_clusters / 3.0)
            + 0.10 * case when posts >= 10 then greatest(0, 1 - coalesce(hour_entropy, 1)) else 0 end,
            4
        ) as amplifier_score
    from measured

),

final as (

    select
        author_key,
        amplifier_score,
        list_filter([
            case when 0.30 * lockstep_share >= 0.05
                 then 'reposted within {{ lockstep }} s of another account''s repost of the same post for '
                      || round(100 * lockstep_share)::int || '% of its reposts' end,
            case when repeat_partners >= 1
                 then 'reposted in lockstep with ' || repeat_partners || ' account(s) at least '
                      || {{ var('amplifier_min_co_reposts', 3) }} || ' times each' end,
            case when 0.15 * repost_share >= 0.05
                 then round(100 * repost_share)::int || '% of its posts are reposts' end,
            case when coordinated_clusters >= 1
                 then 'posted in ' || coordinated_clusters || ' coordinated cluster(s)' end,
            case when 0.10 * schedule_cue >= 0.05
                 then 'posts concentrated in few hours of the day (hour entropy '
                      || round(hour_entropy, 2) || ')' end
        ], lambda r: r is not null) as amplifier_reasons,
        posts,
        reposts,
        repost_share,
        lockstep_reposts,
        lockstep_share,
        repeat_partners,
        hour_entropy,
        burstiness,
        coordinated_clusters,
        (select end_date from bounds) - {{ window_days }} + 1 as window_start,
        (select end_date from bounds) as window_end,
        row_number() over (order by amplifier_score desc, author_key) as rank
    from scored

)

select * from final

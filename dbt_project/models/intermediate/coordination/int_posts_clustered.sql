{#-
    Coordinated clusters: near-identical texts posted by many distinct accounts within a short window,
    across platforms. One row per member post, with its cluster's figures.

    1. Text families. Every distinct normalised text (`int_posts_fingerprinted`) is a node. MinHash
       bands (`coordination_minhash_rows` slots each) put similar texts into the same bucket; within
       a bucket each text is linked to the bucket's smallest `text_hash` when their signatures agree
       on at least `coordination_min_similarity` of the slots (an estimate of the shingles' Jaccard
       similarity), so a chance band collision does not join unrelated texts. The family of a text is
       the smallest `text_hash` reachable over those links, found by `coordination_propagation_rounds`
       rounds of label propagation (enough for the star-shaped links this produces).
    2. Bursts. A family's posts are split where more than `coordination_window_minutes` pass without
       a post. Within a burst, the window of that length (anchored at a post) holding the most
       distinct accounts is the cluster (ties: the earliest); its members are the family's posts
       inside that window.
    3. A cluster is kept when it has at least `coordination_min_accounts` distinct accounts.
       coordination_score = 1 − exp(−(n_accounts − min_accounts + 1) / 10): 0.1 at the minimum,
       0.5 at min + 6, 0.98 at min + 39.

    `cluster_id` is `c` + 16 hex digits of a hash of the family and the window's first post, stable
    across rebuilds of the same data.
-#}

{{ config(pre_hook="{{ keep_previous_clusters() }}") }}

{%- set bands = var('coordination_minhash_bands', 8) %}
{%- set rows_per_band = var('coordination_minhash_rows', 4) %}
{%- set n_hashes = bands * rows_per_band %}

with

fingerprints as (

    select post_uid, platform, author_key, created_at, norm_text, text_hash, minhash
    from {{ ref('int_posts_fingerprinted') }}

),

texts as (

    select distinct text_hash, minhash from fingerprints

),

buckets as (

    select
        text_hash,
        band,
        hash(minhash[band * {{ rows_per_band }} + 1:(band + 1) * {{ rows_per_band }}], band) as bucket
    from texts, range({{ bands }}) as b(band)

),

-- Buckets and their heads carry no signatures (most buckets hold one text; moving lists through
-- that aggregation and join was most of this model's cost): the two signatures of a candidate link
-- are looked up once it is known.
bucket_heads as (

    select bucket, band, min(text_hash) as head
    from buckets
    group by bucket, band
    having count(*) > 1

),

candidate_links as (

    select distinct b.text_hash, h.head
    from buckets as b
    inner join bucket_heads as h
        on h.bucket = b.bucket and h.band = b.band
    where b.text_hash <> h.head

),

links as (

    select distinct l.text_hash, l.head
    from candidate_links as l
    inner join texts as t
        on t.text_hash = l.text_hash
    inner join texts as h
        on h.text_hash = l.head
    where len(list_filter(
              range(1, {{ n_hashes }} + 1), lambda i: t.minhash[i] = h.minhash[i]
          )) >= {{ var('coordination_min_similarity', 0.7) }} * {{ n_hashes }}

),

edges as (

    select text_hash as a, head as b from links
    union
    select head as a, text_hash as b from links

),

labels_0 as (

    select text_hash, text_hash as label from texts

),

{%- for r in range(var('coordination_propagation_rounds', 4)) %}

labels_{{ r + 1 }} as (

    select l.text_hash, least(l.label, coalesce(min(n.label), l.label)) as label
    from labels_{{ r }} as l
    left join edges as e
        on e.a = l.text_hash
    left join labels_{{ r }} as n
        on n.text_hash = e.b
    group by l.text_hash, l.label

),

{%- endfor %}

families as (

    select f.*, l.label as family
    from fingerprints as f
    inner join labels_{{ var('coordination_propagation_rounds', 4) }} as l
        on l.text_hash = f.text_hash

),

-- Only families that could reach the account threshold at all are looked at further.
candidate_families as (

    select family
    from families
    group by family
    having count(distinct author_key) >= {{ var('coordination_min_accounts', 5) }}

),

gaps as (

    select
        f.*,
        case
            when lag(f.created_at) over (partition by f.family order by f.created_at, f.post_uid) is null
              or f.created_at - lag(f.created_at) over (partition by f.family order by f.created_at, f.post_uid)
                 > interval {{ var('coordination_window_minutes', 120) }} minute
                then 1
            else 0
        end as starts_burst
    from families as f
    inner join candidate_families as c
        on c.family = f.family

),

bursts as (

    select
        *,
        sum(starts_burst) over (
            partition by family order by created_at, post_uid rows unbounded preceding
        ) as burst
    from gaps

),

windowed as (

    select
        *,
        count(distinct author_key) over (
            partition by family, burst
            order by created_at
            range between current row and interval {{ var('coordination_window_minutes', 120) }} minute following
        ) as accounts_in_window
    from bursts

),

anchors as (

    select family, burst, created_at as window_start, post_uid as anchor_uid, accounts_in_window
    from windowed
    qualify row_number() over (
        partition by family, burst
        order by accounts_in_window desc, created_at, post_uid
    ) = 1

),

members as (

    select
        w.post_uid,
        w.platform,
        w.author_key,
        w.created_at,
        w.norm_text,
        'c' || substr(md5(cast(a.family as varchar) || ':' || a.anchor_uid), 1, 16) as cluster_id
    from windowed as w
    inner join anchors as a
        on a.family = w.family and a.burst = w.burst
    where a.accounts_in_window >= {{ var('coordination_min_accounts', 5) }}
      and w.created_at between a.window_start
          and a.window_start + interval {{ var('coordination_window_minutes', 120) }} minute

),

clusters as (

    select
        cluster_id,
        min(created_at) as first_seen_at,
        max(created_at) as last_seen_at,
        count(*) as n_posts,
        count(distinct author_key) as n_accounts,
        list(distinct platform order by platform) as platforms,
        arg_min(norm_text, created_at) as sample_norm_text
    from members
    group by cluster_id

),

final as (

    select
        m.post_uid,
        m.cluster_id,
        c.first_seen_at,
        c.last_seen_at,
        c.n_posts,
        c.n_accounts,
        c.platforms,
        cast(ceil(epoch(c.last_seen_at - c.first_seen_at) / 60.0) as integer) as span_minutes,
        round(
            1 - exp(-(c.n_accounts - {{ var('coordination_min_accounts', 5) }} + 1) / 10.0), 4
        ) as coordination_score
    from members as m
    inner join clusters as c
        on c.cluster_id = m.cluster_id

)

select * from final

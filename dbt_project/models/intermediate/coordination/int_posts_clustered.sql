{#-
    Coordinated clusters: near-identical texts posted by many distinct accounts within a short window,
    across platforms. One row per member post, with its cluster's figures and its text's family.

    1. Text families. Every distinct normalised text (`int_posts_fingerprinted`, `int_texts`) is a
       node. MinHash bands (`coordination_minhash_rows` slots each) put similar texts into the same
       bucket (`int_text_buckets`); within a bucket each text is linked to the bucket's smallest
       `text_hash` when their signatures agree on at least `coordination_min_similarity` of the
       slots (an estimate of the shingles' Jaccard similarity), so a chance band collision does not
       join unrelated texts (`int_text_links`). The family of a text is the smallest `text_hash`
       reachable over those links, found by `coordination_propagation_rounds` rounds of label
       propagation (enough for the star-shaped links this produces), i.e. the smallest within that
       many links of it (`int_text_families`).
    2. Bursts. A family's posts are split where more than `coordination_window_minutes` pass without
       a post. Within a burst, the window of that length (anchored at a post) holding the most
       distinct accounts is the cluster (ties: the earliest); its members are the family's posts
       inside that window.
    3. A cluster is kept when it has at least `coordination_min_accounts` distinct accounts.
       coordination_score = 1 − exp(−(n_accounts − min_accounts + 1) / 10): 0.1 at the minimum,
       0.5 at min + 6, 0.98 at min + 39.

    `cluster_id` is `c` + 16 hex digits of a hash of the window's first post (a post is in one family
    and one window, so it names the cluster), stable across rebuilds of the same data. It does not
    hash the family: a late post that joins two families relabels them (the family is the smallest
    text hash), and the clusters far from it in time would get new ids, so every date holding one
    would be rewritten and published again, with nothing about the cluster changed.

    Incremental nights (docs/incremental.md) keep each step's table and revisit only what the night
    can change: the texts of the fingerprints it deleted or inserted (`int_texts_changed`), their
    buckets, the links of those buckets, the texts whose ball of links holds a changed text or link
    (`int_texts_regrouped`) and their families before and after (`int_families_changed`). A cluster
    depends on its family's posts alone, so the pre-hook deletes the rows of those families (and of
    the posts whose lake rows changed), copying them into `int_posts_clustered_previous`, and the
    model computes the clusters of those families again from all their posts. The result is the
    table a full build makes.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ save_rows('int_posts_clustered_previous', clustered_rows_rewritten(), previous_clusters_columns()) }}",
        "{{ delete_rows(clustered_rows_rewritten()) }}",
    ],
) }}
/* depends_on: {{ ref('int_families_changed') }} */
/* depends_on: {{ ref('int_posts_delta_keys') }} */

with

text_families as (

    select text_hash, family
    from {{ ref('int_text_families') }}
    {%- if is_incremental() %}
    where family in (select family from {{ ref('int_families_changed') }})
    {%- endif %}

),

families as (

    select f.post_uid, f.platform, f.author_key, f.created_at, t.family
    from {{ ref('int_posts_fingerprinted') }} as f
    inner join text_families as t
        on t.text_hash = f.text_hash

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
        a.family,
        'c' || substr(md5(a.anchor_uid), 1, 16) as cluster_id
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
        list(distinct platform order by platform) as platforms
    from members
    group by cluster_id

),

final as (

    select
        m.post_uid,
        m.cluster_id,
        m.family,
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

{#-
    The links of the text graph (see `int_posts_clustered`), per bucket: within each bucket of
    `int_text_buckets` holding more than one text, every other text is linked to the bucket's
    smallest `text_hash` (its head) when their signatures agree on at least
    `coordination_min_similarity` of the slots. One row per (band, bucket, text_hash, head); the
    same pair can be linked through several buckets.

    On an incremental night only the buckets a changed text (`int_texts_changed`) left or entered can
    change (`touched_buckets()`, kept in `int_text_links_buckets`). In a bucket whose head and
    multi-text status stay the same only the changed texts' links can change; a bucket whose head
    changed (a new smaller text, or the head's text gone) or that went from one text to several or
    back is `rebuilt`: all its links are computed again. The rows rewritten
    (`text_links_rewritten()`) are copied into `int_text_links_removed`, deleted and computed again
    from the buckets' current members.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ save_query('int_text_links_buckets', touched_buckets(), 'band bigint, bucket ubigint, rebuilt boolean') }}",
        "{{ save_rows('int_text_links_removed', text_links_rewritten(), 'band bigint, bucket ubigint, text_hash uhugeint, head uhugeint') }}",
        "{{ delete_rows(text_links_rewritten()) }}",
    ],
) }}
/* depends_on: {{ ref('int_texts_changed') }} */

{%- set n_hashes = var('coordination_minhash_bands', 8) * var('coordination_minhash_rows', 4) %}

with

members as (

    {%- if is_incremental() %}
    select b.text_hash, b.band, b.bucket,
           t.rebuilt or b.text_hash in (select text_hash from {{ ref('int_texts_changed') }}) as rewritten
    from {{ ref('int_text_buckets') }} as b
    inner join {{ coordination_side_table('int_text_links_buckets') }} as t
        on t.band = b.band and t.bucket = b.bucket
    {%- else %}
    select text_hash, band, bucket, true as rewritten
    from {{ ref('int_text_buckets') }}
    {%- endif %}

),

-- Buckets and their heads carry no signatures (most buckets hold one text): the two signatures of a
-- candidate link are looked up once it is known.
bucket_heads as (

    select bucket, band, min(text_hash) as head
    from members
    group by bucket, band
    having count(*) > 1

),

candidate_links as (

    select b.band, b.bucket, b.text_hash, h.head
    from members as b
    inner join bucket_heads as h
        on h.bucket = b.bucket and h.band = b.band
    where b.text_hash <> h.head and b.rewritten

),

candidate_pairs as (

    select distinct text_hash, head from candidate_links

),

signatures as (

    select t.text_hash, t.minhash
    from {{ ref('int_texts') }} as t
    inner join (
        select text_hash from candidate_pairs
        union
        select head from candidate_pairs
    ) as c
        on c.text_hash = t.text_hash

),

similar_pairs as (

    select p.text_hash, p.head
    from candidate_pairs as p
    inner join signatures as t
        on t.text_hash = p.text_hash
    inner join signatures as h
        on h.text_hash = p.head
    where len(list_filter(
              range(1, {{ n_hashes }} + 1), lambda i: t.minhash[i] = h.minhash[i]
          )) >= {{ var('coordination_min_similarity', 0.7) }} * {{ n_hashes }}

)

select l.band, l.bucket, l.text_hash, l.head
from candidate_links as l
inner join similar_pairs as s
    on s.text_hash = l.text_hash and s.head = l.head

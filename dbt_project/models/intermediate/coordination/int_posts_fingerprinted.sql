{#-
    Text fingerprints for coordination detection, one row per post that can take part (reposts are
    explicit shares, not copies, and are left out; so are texts shorter than
    `coordination_min_words` normalised words):

    * `norm_text`: lower-case, URLs, @mentions, punctuation, emoji and symbols removed, whitespace
      collapsed; `text_hash` is its hash (exact near-verbatim copies share it);
    * `minhash`: a MinHash signature of the text's word 3-shingles (`coordination_minhash_bands` ×
      `coordination_minhash_rows` slots, each the minimum of a seeded hash over the shingles),
      computed once per distinct normalised text, vectorised as list lambdas.
-#}

{%- set n_hashes = var('coordination_minhash_bands', 8) * var('coordination_minhash_rows', 4) %}

with

posts as (

    select post_uid, platform, author_key, created_at, kind, text
    from {{ ref('stg_lake__posts') }}

),

normalised as (

    select
        post_uid,
        platform,
        author_key,
        created_at,
        trim(regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(lower(coalesce(text, '')), '(?:https?://|www\.)\S+', ' ', 'g'),
                    '@[\w.]+', ' ', 'g'
                ),
                '[^\p{L}\p{N}\s]+', ' ', 'g'
            ),
            '\s+', ' ', 'g'
        )) as norm_text
    from posts
    where kind is distinct from 'repost'

),

eligible as (

    select *, hash(norm_text) as text_hash
    from normalised
    where len(string_split(norm_text, ' ')) >= {{ var('coordination_min_words', 6) }}

),

texts as (

    select distinct text_hash, norm_text from eligible

),

shingled as (

    select
        text_hash,
        list_distinct(list_transform(
            range(1, greatest(len(words) - 1, 1) + 1),
            lambda i: array_to_string(words[i:i + 2], ' ')
        )) as shingles
    from (select text_hash, string_split(norm_text, ' ') as words from texts)

),

signed as (

    select
        text_hash,
        list_transform(
            range({{ n_hashes }}),
            lambda k: list_min(list_transform(shingles, lambda s: hash(s, k)))
        ) as minhash
    from shingled

),

final as (

    select
        e.post_uid,
        e.platform,
        e.author_key,
        e.created_at,
        e.norm_text,
        e.text_hash,
        s.minhash
    from eligible as e
    inner join signed as s
        on s.text_hash = e.text_hash

)

select * from final

{#-
    Text fingerprints for coordination detection, one row per post that can take part (reposts are
    explicit shares, not copies, and are left out; so are texts shorter than
    `coordination_min_words` normalised words):

    * `norm_text`: lower-case, URLs, @mentions, punctuation, emoji and symbols removed, whitespace
      collapsed; `text_hash` is its 128-bit MD5 as a number (exact near-verbatim copies share it;
      DuckDB's 64-bit `hash()` collides on near-identical texts at a million posts);
    * `minhash`: a MinHash signature of the text's word 3-shingles (`coordination_minhash_bands` ×
      `coordination_minhash_rows` slots, each the minimum of an independent hash over the shingles),
      computed once per distinct normalised text: one row per shingle, one min() aggregate per slot.
      Slot k hashes the shingle's hash XOR a per-slot constant again. (DuckDB's two-argument
      `hash(shingle, k)` was used before: its slots are correlated, so the share of equal slots
      overestimated the shingles' Jaccard similarity, 0.61 against a true 0.50 on pairs of
      template texts, and texts 0.4 alike were clustered against the 0.7 threshold.)

    On an incremental night the pre-hook deletes the rows of the posts whose lake rows changed
    (`int_posts_delta_keys`), copying their post_uid, text_hash and minhash first into
    `int_posts_fingerprinted_removed` (empty on a full build): with tonight's inserted rows they are
    the texts the clustering revisits (`int_texts_changed`).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ save_rows('int_posts_fingerprinted_removed', 'post_uid in (select post_uid from ' ~ ref('int_posts_delta_keys') ~ ')', 'post_uid varchar, text_hash uhugeint, minhash ubigint[]') }}",
        "{{ delete_rows('post_uid in (select post_uid from ' ~ ref('int_posts_delta_keys') ~ ')') }}",
    ],
) }}
/* depends_on: {{ ref('int_posts_delta_keys') }} */

{%- set n_hashes = var('coordination_minhash_bands', 8) * var('coordination_minhash_rows', 4) %}

with

posts as (

    select post_uid, platform, author_key, created_at, kind, text
    {%- if is_incremental() %}
    from ({{ lake_posts_of(ref('int_posts_delta_keys')) }})
    {%- else %}
    from {{ ref('stg_lake__posts') }}
    {%- endif %}

),

lowered as (

    select post_uid, platform, author_key, created_at, lower(coalesce(text, '')) as lowered
    from posts
    where kind is distinct from 'repost'

),

-- URL and @mention removal run only on texts that can hold one (most have neither).
without_urls as (

    select
        * exclude (lowered),
        case
            when contains(lowered, 'http') or contains(lowered, 'www.')
                then regexp_replace(lowered, '(?:https?://|www\.)\S+', ' ', 'g')
            else lowered
        end as without_urls
    from lowered

),

-- materialized: the regular expressions run once per post, not once per consumer of norm_text
normalised as materialized (

    select
        post_uid,
        platform,
        author_key,
        created_at,
        -- every run of characters that are neither letters nor digits (punctuation, symbols, emoji,
        -- whitespace) becomes one space, in one pass
        trim(regexp_replace(
            case
                when contains(without_urls, '@') then regexp_replace(without_urls, '@[\w.]+', ' ', 'g')
                else without_urls
            end,
            '[^\p{L}\p{N}]+', ' ', 'g'
        )) as norm_text
    from without_urls

),

eligible as (

    select *, md5_number(norm_text) as text_hash
    from normalised
    where len(string_split(norm_text, ' ')) >= {{ var('coordination_min_words', 6) }}

),

texts as (

    select distinct text_hash, norm_text from eligible

),

-- One row per word 3-shingle (a shorter text is one shingle of all its words); concat_ws skips
-- the NULLs past the last word.
shingles as (

    select
        text_hash,
        concat_ws(' ', words[i], words[i + 1], words[i + 2]) as shingle
    from (
        select text_hash, words, unnest(range(1, greatest(len(words) - 1, 1) + 1)) as i
        from (select text_hash, string_split(norm_text, ' ') as words from texts)
    )

),

-- Slot k is min(hash(h xor c_k)) over the text's shingles, h being the shingle's own hash and c_k a
-- fixed 64-bit constant per slot (multiples of the golden-ratio constant): the string is hashed
-- once, the 32 slot hashes are cheap integer hashes (each a full re-mix, so slots are independent).
-- Plain aggregates, one per slot.
signed as (

    select
        text_hash,
        [
            {%- for k in range(n_hashes) %}
            min(hash(xor(h, cast({{ ((k + 1) * 11400714819323198485) % 18446744073709551616 }} as ubigint)))){{ "," if not loop.last }}
            {%- endfor %}
        ] as minhash
    from (select text_hash, hash(shingle) as h from shingles)
    group by text_hash

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

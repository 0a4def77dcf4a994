{#-
    Posts that make a fact-checked claim (`int_claims_unioned`): one row per (post, claim) match.

    Fuzzy matching on character trigrams of words (padded with spaces, so "sembuhkan" still matches
    most of "menyembuhkan"): match_score = the share of the claim's content-word trigrams that occur
    in the post (containment, since a post usually says more than the claim). A post matches when
    match_score >= `claim_match_threshold`.

    How it stays cheap at millions of posts: only trigrams that occur in some claim are looked at, and
    each distinct word's trigrams are computed once. The claims' trigrams are numbered; every word and
    every claim gets a bit string with one bit per numbered trigram. A post's bit string is the OR of
    its words' (one aggregation over the posts' words), and the number of a claim's trigrams in the
    post is bit_count(post bits & claim bits): no (post, trigram) or (post, claim) rows are ever
    grouped. The debunking check runs only on the matched posts.

    A post that repeats a claim to debunk it ("hati-hati informasi palsu soal ...") still matches,
    but `is_debunking` is true when it uses a debunking word (var `claim_debunk_markers`: hoaks,
    palsu, keliru, fake, factcheck, ...); such matches add no risk.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

with

tokenised as (

    select post_uid, tokens from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only(content=true) }}

),

claims as (

    select claim_id, claim_text, verdict, source_name, claim_trigrams
    from {{ ref('int_claims_unioned') }}
    where len(claim_trigrams) > 0

),

-- The claims' distinct trigrams, numbered 0..n-1: bit i of a bit string stands for trigram i.
trigram_ids as (

    select trigram, row_number() over (order by trigram) - 1 as trigram_id
    from (select distinct unnest(claim_trigrams) as trigram from claims)

),

bit_width as (

    select count(*) as n from trigram_ids

),

claim_bits as (

    select
        c.claim_id,
        any_value(len(c.claim_trigrams)) as n_trigrams,
        cast(array_to_string(list_transform(
            range(any_value(w.n)), lambda i: case when list_contains(list(t.trigram_id), i) then '1' else '0' end
        ), '') as bit) as bits
    from claims as c
    cross join bit_width as w
    inner join trigram_ids as t
        on list_contains(c.claim_trigrams, t.trigram)
    group by c.claim_id

),

post_words as (

    select post_uid, unnest(tokens) as word from tokenised

),

vocabulary as (

    select distinct word
    from post_words
    where regexp_matches(word, '^[\p{L}\p{N}]')

),

-- Each distinct word's trigrams, computed once; only words sharing a trigram with some claim stay.
word_bits as (

    select
        t.word,
        cast(array_to_string(list_transform(
            range(any_value(w.n)), lambda i: case when list_contains(list(x.trigram_id), i) then '1' else '0' end
        ), '') as bit) as bits
    from (
        select
            word,
            unnest(list_transform(
                range(1, length(' ' || word || ' ') - 1), lambda i: substr(' ' || word || ' ', i, 3)
            )) as trigram
        from vocabulary
    ) as t
    inner join trigram_ids as x
        on x.trigram = t.trigram
    cross join bit_width as w
    group by t.word

),

post_bits as (

    select p.post_uid, bit_or(w.bits) as bits
    from post_words as p
    inner join word_bits as w
        on w.word = p.word
    group by p.post_uid

),

scored as (

    select
        p.post_uid,
        c.claim_id,
        -- the number of the claim's distinct trigrams that occur in the post, over the claim's count
        bit_count(p.bits & c.bits) / c.n_trigrams as match_score
    from post_bits as p
    cross join claim_bits as c

),

final as (

    select
        s.post_uid,
        s.claim_id,
        c.claim_text,
        c.verdict,
        c.source_name,
        round(s.match_score, 4) as match_score,
        coalesce(len(list_intersect(t.tokens, {{ var('claim_debunk_markers', ['hoaks', 'hoax', 'hoaxes', 'palsu', 'disinformasi', 'misinformasi', 'klarifikasi', 'faktanya', 'keliru', 'menyesatkan', 'bohong', 'debunk', 'debunked', 'false', 'fake', 'misleading', 'factcheck', 'cekfakta', 'turnbackhoax']) }})) > 0, false)
            as is_debunking
    from scored as s
    inner join claims as c
        on c.claim_id = s.claim_id
    inner join tokenised as t
        on t.post_uid = s.post_uid
    where s.match_score >= {{ var('claim_match_threshold', 0.6) }}

)

select * from final

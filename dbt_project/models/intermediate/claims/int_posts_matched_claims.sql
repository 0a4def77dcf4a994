{#-
    Posts that make a fact-checked claim (`int_claims_unioned`): one row per (post, claim) match.

    Fuzzy matching on character trigrams of words (padded with spaces, so "sembuhkan" still matches
    most of "menyembuhkan"): match_score = the share of the claim's content-word trigrams that occur
    in the post (containment, since a post usually says more than the claim). A post matches when
    match_score >= `claim_match_threshold`. Only trigrams that occur in some claim are looked at,
    and each distinct word's trigrams are computed once, so the cost is one hash join over the posts'
    words.

    A post that repeats a claim to debunk it ("hati-hati informasi palsu soal ...") still matches,
    but `is_debunking` is true when it uses a debunking word (var `claim_debunk_markers`: hoaks,
    palsu, keliru, fake, factcheck, ...); such matches add no risk.
-#}

with

tokenised as (

    select post_uid, tokens from {{ ref('int_posts_tokenised') }}

),

claims as (

    select claim_id, claim_text, verdict, source_name, claim_trigrams
    from {{ ref('int_claims_unioned') }}
    where len(claim_trigrams) > 0

),

claim_trigrams as (

    select claim_id, unnest(claim_trigrams) as trigram, len(claim_trigrams) as n_trigrams
    from claims

),

wanted as (

    select distinct trigram from claim_trigrams

),

post_words as (

    select distinct post_uid, word
    from (select post_uid, unnest(tokens) as word from tokenised)
    where regexp_matches(word, '^[\p{L}\p{N}]')

),

word_trigrams as (

    select distinct w.word, t.trigram
    from (
        select
            word,
            unnest(list_transform(
                range(1, length(' ' || word || ' ') - 1), lambda i: substr(' ' || word || ' ', i, 3)
            )) as trigram
        from (select distinct word from post_words)
    ) as t
    inner join wanted as x
        on x.trigram = t.trigram
    inner join (select distinct word from post_words) as w
        on w.word = t.word

),

post_trigrams as (

    select distinct p.post_uid, t.trigram
    from post_words as p
    inner join word_trigrams as t
        on t.word = p.word

),

scored as (

    select
        p.post_uid,
        c.claim_id,
        count(*) / any_value(c.n_trigrams) as match_score
    from post_trigrams as p
    inner join claim_trigrams as c
        on c.trigram = p.trigram
    group by p.post_uid, c.claim_id

),

debunking as (

    select post_uid
    from tokenised
    where len(list_intersect(tokens, {{ var('claim_debunk_markers', ['hoaks', 'hoax', 'hoaxes', 'palsu', 'disinformasi', 'misinformasi', 'klarifikasi', 'faktanya', 'keliru', 'menyesatkan', 'bohong', 'debunk', 'debunked', 'false', 'fake', 'misleading', 'factcheck', 'cekfakta', 'turnbackhoax']) }})) > 0

),

final as (

    select
        s.post_uid,
        s.claim_id,
        c.claim_text,
        c.verdict,
        c.source_name,
        round(s.match_score, 4) as match_score,
        d.post_uid is not null as is_debunking
    from scored as s
    inner join claims as c
        on c.claim_id = s.claim_id
    left join debunking as d
        on d.post_uid = s.post_uid
    where s.match_score >= {{ var('claim_match_threshold', 0.6) }}

)

select * from final

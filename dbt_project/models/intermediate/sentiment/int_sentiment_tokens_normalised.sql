{#-
    Each post's tokens that can matter for sentiment, looked up: one row per such token.

    A token is looked up as itself, as its cut-to-one-letter variant ("kerenn" -> "keren"), in its
    standard form from the `slang_normalisation` seed ("bgs" -> "bagus", "gk" -> "tidak"; modifiers
    too) and without an Indonesian clitic ("-nya", "-lah", "-kah", "-pun"), in `int_sentiment_lexicon`
    and in `sentiment_modifiers`. Two-token entries ("luar biasa", "gak jelas", "i like", "good
    morning") match as a bigram starting at the token (as written, else in standard forms).
    Tokens that are none of these (most of them) are left out; so are tokens that could matter
    (variants, "...n't", clitic forms) but matched nothing, except that their `norm` is kept for the
    trained overlay. A hashtag token that matches nothing as a whole is split into words: at its
    camelCase boundaries ("#NotHappy" -> "not happy"), else into two known words of which one is a
    lexicon word or modifier ("#sohappy" -> "so happy"; known words: `int_lang_words`, the lexicon and
    the modifiers; the most frequent split wins); the split scores as one term ("#not happy") with its
    parts' negator and boosters applied. `is_elongated`: the token had a letter repeated three times or
    more ("soooo goood"). `post_key` is an integer key for the window sorts downstream (much faster than
    sorting by the post_uid string), unique in this table: an incremental night numbers its posts on
    from the largest key already there.
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

tokenised as materialized (

    select
        row_number() over (){% if is_incremental() %} + (select coalesce(max(post_key), 0) from {{ this }}){% endif %} as post_key,
        post_uid,
        tokens,
        token_alts,
        shouted_positions,
        coalesce(token_clauses, list_transform(tokens, lambda t: 1)) as token_clauses,
        coalesce(question_clauses, []) as question_clauses,
        list_transform(coalesce(hashtags, []), lambda h: h.pos) as hashtag_positions,
        coalesce(hashtags, []) as hashtags,
        word_count
    from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only(content=true) }}

),

lexicon as (

    select term, weight, is_bigram from {{ ref('int_sentiment_lexicon') }}

),

modifiers as (

    select {{ normalise_phrase('term') }} as term, kind, value, position
    from {{ ref('sentiment_modifiers') }}

),

slang as (

    select slang, standard from {{ ref('slang_normalisation') }}

),

bigrams as (

    select term, weight from lexicon where is_bigram

),

-- Every single-token form a look-up can hit, with all it stands for: a lexicon word, a modifier, a
-- slang form (its standard form), the first word of a two-token entry. One join of each token with
-- this table replaces a join per source; a token that is none of these (most of them) is dropped.
vocab as (

    select
        form,
        max(uni_term) as uni_term,
        max(uni_weight) as uni_weight,
        max(kind) as kind,
        max(modifier_value) as modifier_value,
        max(position) as position,
        max(standard) as standard,
        bool_or(is_first) as is_first
    from (
        select
            term as form, term as uni_term, weight as uni_weight, null as kind, null as modifier_value,
            null as position, null as standard, false as is_first
        from lexicon
        where not is_bigram
        union all
        select term, null, null, kind, value, position, null, false from modifiers
        where not contains(term, ' ')
        union all
        select slang, null, null, null, null, null, standard, false from slang
        union all
        select split_part(term, ' ', 1), null, null, null, null, null, null, true from bigrams
    )
    group by form

),

token_rows as (

    select
        post_key,
        unnest(tokens) as token,
        unnest(token_alts) as token_alt,
        unnest(token_clauses) as clause,
        -- the next token (NULL after the last one), for two-token entries
        unnest(tokens[2:]) as next_token,
        unnest(token_alts[2:]) as next_alt,
        generate_subscripts(tokens, 1) as pos
    from tokenised
    where len(tokens) > 0

),

-- The positions of hashtag tokens (few posts have any).
hashtag_tokens as (

    select post_key, unnest(hashtag_positions) as pos
    from tokenised
    where len(hashtag_positions) > 0

),

-- Known words for splitting hashtags: common English words (not the short ones, whose splits are
-- mostly accidental) and the lexicon's and modifiers' single words.
split_words as (

    select term as word, max(zipf) as zipf
    from (
        select term, zipf_en as zipf from {{ ref('int_lang_words') }}
        where lang = 'en' and length(term) >= 3
        union all
        select form, 3.0 from vocab
        where (uni_term is not null or kind is not null) and length(form) >= 2
    )
    group by term

),

-- The token as itself and as its cut-to-one-letter variant; its standard form ("bgt" -> "banget").
-- Only tokens that can matter go on: known forms, variants, "...n't" and clitic forms.
known as (

    select
        t.post_key,
        t.pos,
        t.clause,
        t.token,
        t.token_alt,
        t.next_token,
        t.next_alt,
        coalesce(v.standard, va.standard, t.token) as norm,
        v.uni_term as u_term,
        v.uni_weight as u_weight,
        va.uni_term as ua_term,
        va.uni_weight as ua_weight,
        v.kind as m_kind,
        v.modifier_value as m_value,
        v.position as m_position,
        va.kind as ma_kind,
        va.modifier_value as ma_value,
        va.position as ma_position,
        coalesce(v.is_first, false) as token_is_first,
        -- the token without an Indonesian clitic ("-nya", "-lah", "-kah", "-pun")
        case
            when length(t.token) > 5 and regexp_matches(t.token, '(nya|lah|kah|pun)$') then left(t.token, -3)
        end as clitic_stem
    from token_rows as t
    left join vocab as v
        on v.form = t.token
    left join vocab as va
        on va.form = t.token_alt
    left join hashtag_tokens as ht
        on ht.post_key = t.post_key and ht.pos = t.pos
    where v.form is not null
        or t.token_alt is not null
        or t.token like '%n''t'
        or clitic_stem is not null
        or ht.pos is not null

),

-- The standard form's own entries, the clitic-less form's, and the next token's standard form.
with_norm as (

    select
        k.*,
        vn.uni_term as un_term,
        vn.uni_weight as un_weight,
        vn.kind as mn_kind,
        vn.modifier_value as mn_value,
        vn.position as mn_position,
        vc.uni_term as uc_term,
        vc.uni_weight as uc_weight,
        k.token_is_first or coalesce(vn.is_first, false) as is_first
    from known as k
    left join vocab as vn
        on vn.form = k.norm and k.norm <> k.token
    left join vocab as vc
        on vc.form = k.clitic_stem

),

-- Hashtags that match nothing as a whole, split into words: the camelCase split of the tokeniser when
-- it has two or more words, else the most frequent split into two known words of which at least one is
-- a lexicon word or a modifier.
hashtag_rows as (

    select
        w.post_key,
        w.pos,
        w.token,
        (list_filter(p.hashtags, lambda h: h.pos = w.pos))[1].words as camel_words
    from with_norm as w
    inner join hashtag_tokens as ht
        on ht.post_key = w.post_key and ht.pos = w.pos
    inner join tokenised as p
        on p.post_key = w.post_key
    where coalesce(w.u_term, w.ua_term, w.un_term, w.uc_term, w.m_kind, w.ma_kind) is null
        and length(w.token) >= 4
        -- a tag that is a word itself ("#nightmare" aside, which the lexicon has) is not split
        and not exists (select 1 from split_words as sw where sw.word = w.token)

),

hashtag_splits as (

    select post_key, pos, token, string_split(camel_words, ' ') as parts
    from hashtag_rows
    where contains(camel_words, ' ')
    union all
    select post_key, pos, token, arg_max([a.word, b.word], a.zipf + b.zipf) as parts
    from (
        select h.post_key, h.pos, h.token, k
        from hashtag_rows as h, range(2, length(h.token) - 1) as r(k)
        where not contains(h.camel_words, ' ')
    ) as c
    inner join split_words as a
        on a.word = left(c.token, cast(c.k as integer))
    inner join split_words as b
        on b.word = substr(c.token, cast(c.k as integer) + 1)
    where exists (
        select 1 from vocab as v
        where v.form in (a.word, b.word) and (v.uni_term is not null or v.kind is not null)
    )
    group by post_key, pos, token

),

-- Each part looked up; the split's weight is its lexicon words' sum, with a negator or booster among
-- the parts before the first lexicon word applied to it ("#nothappy" = −0.74 × happy).
hashtag_parts as (

    select
        s.post_key,
        s.pos,
        s.parts,
        p.i,
        coalesce(v.uni_weight, vs.uni_weight) as weight,
        coalesce(v.kind, vs.kind) as kind,
        coalesce(v.modifier_value, vs.modifier_value) as value
    from (
        select post_key, pos, parts, unnest(parts) as part, generate_subscripts(parts, 1) as i
        from hashtag_splits
    ) as p
    inner join hashtag_splits as s
        on s.post_key = p.post_key and s.pos = p.pos
    left join vocab as v
        on v.form = p.part
    left join vocab as vs
        on vs.form = v.standard

),

hashtag_terms as (

    select
        post_key,
        pos,
        '#' || array_to_string(any_value(parts), ' ') as term,
        min(i) filter (where weight is not null and weight <> 0 and kind is null) as first_word,
        sum(weight) filter (where kind is null) as word_sum,
        min(i) filter (where kind = 'negator') as negator_i,
        min(value) filter (where kind = 'negator') as negator_value,
        sum(value) filter (where kind = 'booster') as boost
    from hashtag_parts
    group by post_key, pos

),

hashtag_scored as (

    select
        post_key,
        pos,
        term,
        round(
            (word_sum + sign(word_sum) * coalesce(boost, 0))
                * case when negator_i < first_word then negator_value else 1.0 end,
            3
        ) as weight
    from hashtag_terms
    where first_word is not null and word_sum <> 0

),

with_bigrams as (

    select
        w.*,
        case when w.is_first then w.token || ' ' || w.next_token end as bigram,
        case
            when w.is_first
                then w.norm || ' ' || coalesce(nv.standard, nva.standard, w.next_token)
        end as norm_bigram
    from with_norm as w
    left join vocab as nv
        on nv.form = case when w.is_first then w.next_token end
    left join vocab as nva
        on nva.form = case when w.is_first then w.next_alt end

),

final as (

    select
        t.post_key,
        p.post_uid,
        t.pos,
        t.clause,
        t.token,
        t.norm,
        coalesce(b.term, bn.term) as bigram_term,
        coalesce(b.weight, bn.weight) as bigram_weight,
        coalesce(t.u_term, t.ua_term, t.un_term, t.uc_term, h.term) as uni_term,
        coalesce(t.u_weight, t.ua_weight, t.un_weight, t.uc_weight, h.weight) as uni_weight,
        coalesce(t.m_kind, t.ma_kind, t.mn_kind, case when t.token like '%n''t' then 'negator' end) as kind,
        coalesce(t.m_value, t.ma_value, t.mn_value, case when t.token like '%n''t' then -0.74 end)
            as modifier_value,
        coalesce(t.m_position, t.ma_position, t.mn_position, 'before') as position,
        -- a SHOUTED word counts as such unless the whole post is shouted
        list_contains(p.shouted_positions, t.pos) and len(p.shouted_positions) < p.word_count
            as is_shouted,
        list_contains(p.question_clauses, t.clause) as is_question_clause,
        -- a letter repeated three or more times ("goood", "soooo"): the tokeniser kept a variant
        t.token_alt is not null as is_elongated
    from with_bigrams as t
    inner join tokenised as p
        on p.post_key = t.post_key
    left join bigrams as b
        on b.term = t.bigram
    left join bigrams as bn
        on bn.term = t.norm_bigram and t.norm_bigram <> t.bigram
    left join hashtag_scored as h
        on h.post_key = t.post_key and h.pos = t.pos

)

select * from final

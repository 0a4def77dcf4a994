{#-
    Each post's tokens that can matter for emotion, looked up: one row per such token. Reads the shared
    tokenisation (`int_posts_tokenised`); nothing is tokenised again.

    A token is looked up in `int_emotion_lexicon` and in the negators, boosters and contrast words of
    `sentiment_modifiers` (the same modifiers sentiment uses): as written, as its cut-to-one-letter
    variant ("takuttt" -> "takut"), in its standard form from `slang_normalisation` ("seneng" ->
    "senang", "gk" -> "tidak"), without an Indonesian clitic ("-nya", "-lah", "-kah", "-pun", "-ku",
    "-mu": "sedihnya", "sayangku") and without a doubled last letter ("sedihh"), the first that matches.
    Two-token entries ("patah hati", "can't wait") match as a bigram starting at the token, as written
    or in standard forms ("gak nyangka" -> "tidak nyangka"). A token that is both a modifier and an
    emotion term counts as the modifier. Tokens that match nothing (most of them) are left out.
    `post_key` is an integer key for the window sorts downstream, unique in this table: an incremental
    night numbers its posts on from the largest key already there (macros/incremental.sql).
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
        row_number() over (){% if is_incremental() %} + (select coalesce(max(post_key), 0) from {{ this }}){% endif %}
            as post_key,
        post_uid,
        tokens,
        token_alts,
        coalesce(token_clauses, list_transform(tokens, lambda t: 1)) as token_clauses
    from {{ ref('int_posts_tokenised') }}
    where len(tokens) > 0
    {{ affected_posts_only(keyword='and', content=true) }}

),

lexicon as (

    select distinct term, is_bigram from {{ ref('int_emotion_lexicon') }}

),

modifiers as (

    select {{ normalise_phrase('term') }} as term, kind, value, position
    from {{ ref('sentiment_modifiers') }}
    where kind in ('negator', 'booster', 'contrast')

),

slang as (

    select slang, standard from {{ ref('slang_normalisation') }}

),

-- Every single-token form a look-up can hit: an emotion term, a modifier, a slang form (with its
-- standard form), the first word of a two-token entry. One join per look-up step.
vocab as (

    select
        form,
        bool_or(is_term) as is_term,
        max(kind) as kind,
        max(modifier_value) as modifier_value,
        max(position) as position,
        max(standard) as standard,
        bool_or(is_first) as is_first
    from (
        select
            term as form, true as is_term, null as kind, null as modifier_value, null as position,
            null as standard, false as is_first
        from lexicon
        where not is_bigram
        union all
        select term, false, kind, value, position, null, false from modifiers
        where not contains(term, ' ')
        union all
        select slang, false, null, null, null, standard, false from slang
        union all
        select split_part(term, ' ', 1), false, null, null, null, null, true from lexicon
        where is_bigram
    )
    group by form

),

bigrams as (

    select term from lexicon where is_bigram

),

token_rows as (

    select
        post_key,
        unnest(tokens) as token,
        unnest(token_alts) as token_alt,
        unnest(token_clauses) as clause,
        unnest(tokens[2:]) as next_token,
        unnest(token_alts[2:]) as next_alt,
        generate_subscripts(tokens, 1) as pos
    from tokenised

),

-- The fallbacks need the token's stem forms; only tokens that are known, or could be known through a
-- fallback, go on.
candidates as (

    select
        t.*,
        v.is_term as v_term,
        v.kind as v_kind,
        v.modifier_value as v_value,
        v.position as v_position,
        v.standard as v_standard,
        coalesce(v.is_first, false) as v_first,
        case
            when length(t.token) > 5 and regexp_matches(t.token, '(nya|lah|kah|pun)$') then left(t.token, -3)
            when length(t.token) > 5 and regexp_matches(t.token, '(ku|mu)$') then left(t.token, -2)
        end as clitic_stem,
        case
            when length(t.token) > 3 and right(t.token, 1) = left(right(t.token, 2), 1)
                then left(t.token, -1)
        end as undoubled
    from token_rows as t
    left join vocab as v
        on v.form = t.token

),

known as (

    select
        c.*,
        va.is_term as a_term,
        va.kind as a_kind,
        va.modifier_value as a_value,
        va.position as a_position,
        coalesce(c.v_standard, va.standard, c.token) as norm,
        c.v_first or coalesce(va.is_first, false) as alt_first
    from candidates as c
    left join vocab as va
        on va.form = c.token_alt
    where c.v_term is not null
        or c.token_alt is not null
        or c.token like '%n''t'
        or c.clitic_stem is not null
        or c.undoubled is not null

),

looked_up as (

    select
        k.*,
        vn.is_term as n_term,
        vn.kind as n_kind,
        vn.modifier_value as n_value,
        vn.position as n_position,
        vc.is_term as c_term,
        vd.is_term as d_term,
        k.alt_first or coalesce(vn.is_first, false) as is_first
    from known as k
    left join vocab as vn
        on vn.form = k.norm and k.norm <> k.token
    left join vocab as vc
        on vc.form = k.clitic_stem
    left join vocab as vd
        on vd.form = k.undoubled

),

with_bigrams as (

    select
        l.*,
        case when l.is_first then l.token || ' ' || l.next_token end as bigram,
        case
            when l.is_first then l.norm || ' ' || coalesce(nv.standard, nva.standard, l.next_token)
        end as norm_bigram
    from looked_up as l
    left join vocab as nv
        on nv.form = case when l.is_first then l.next_token end
    left join vocab as nva
        on nva.form = case when l.is_first then l.next_alt end

),

resolved as (

    select
        t.post_key,
        t.pos,
        t.clause,
        t.token,
        coalesce(b.term, bn.term) as bigram_term,
        case
            when t.v_term then t.token
            when t.a_term then t.token_alt
            when t.n_term then t.norm
            when t.c_term then t.clitic_stem
            when t.d_term then t.undoubled
        end as uni_term,
        coalesce(
            t.v_kind, t.a_kind, t.n_kind, case when t.token like '%n''t' then 'negator' end
        ) as kind,
        coalesce(t.v_value, t.a_value, t.n_value, case when t.token like '%n''t' then -0.74 end)
            as modifier_value,
        coalesce(t.v_position, t.a_position, t.n_position, 'before') as position
    from with_bigrams as t
    left join bigrams as b
        on b.term = t.bigram
    left join bigrams as bn
        on bn.term = t.norm_bigram and t.norm_bigram <> t.bigram

),

final as (

    select
        r.post_key,
        p.post_uid,
        r.pos,
        r.clause,
        r.token,
        coalesce(r.bigram_term, case when r.kind is null then r.uni_term end) as term,
        r.bigram_term is not null as is_bigram,
        case when r.bigram_term is null then r.kind end as kind,
        case when r.bigram_term is null then r.modifier_value end as modifier_value,
        case when r.bigram_term is null and r.kind is not null then r.position end as position
    from resolved as r
    inner join tokenised as p
        on p.post_key = r.post_key
    where r.bigram_term is not null or r.uni_term is not null or r.kind is not null

)

select * from final

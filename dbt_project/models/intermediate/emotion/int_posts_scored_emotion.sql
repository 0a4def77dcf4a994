{#-
    Lexicon-and-rules emotion in SQL, set-based over all posts: six emotions (anger, fear, joy,
    sadness, love — love and trust —, surprise) or neutral, for Indonesian, English and code-mixed
    text. The looked-up tokens come from `int_emotion_tokens_matched` (the shared tokenisation, slang
    normalisation, clitics, bigrams; negators, boosters and contrast words of `sentiment_modifiers`).

    1. A matched two-token entry ("patah hati", "can't wait") consumes its second token; an immediate
       repetition ("marah-marah", "takut takut") counts once.
    2. A booster beside a term adds its `value` to the term's weight: before it ("sangat takut",
       "so happy") or after it ("sedih banget", "kesel bgt"); diminishers ("agak", "sedikit")
       subtract (never below 0).
    3. Negation: a negator ("tidak", "gak", "not", any "...n't") before a term, within
       `negation_window` tokens, in the same clause, with only boosters between, cancels the term;
       where the emotion has an opposite in var `emotion_negation_opposites` (joy -> sadness,
       love -> anger: "tidak senang", "not happy", "gak suka"), the term's weight × var
       `emotion_negation_factor` goes to the opposite instead.
    4. Contrast ("tapi", "namun", "but", "however"): terms before the last contrast word count
       × var `contrast_before_weight`, after it × var `contrast_after_weight` (as for sentiment).
    5. Each emotion's evidence is the sum of its contributions; its intensity in `emotion_scores` is
       s / sqrt(s² + `emotion_alpha`) (0..1). The label is the emotion with the most evidence (ties:
       more terms, then the order of var `emotion_labels`) when that evidence reaches var
       `emotion_min_score`, else `neutral`.
    `emotion_terms` lists every contribution in text order as "term:emotion+weight"
    ("kecewa:sadness+2.00", "tidak senang:sadness+1.00").
    6. With a trained overlay (`int_emotion_overlay`, see discourse.transform.emotion_train): per class
       (the six emotions and neutral) z = bias + Σ_e w_e × intensity_e + Σ token weights over the
       post's distinct normalised tokens; the label is the class with the largest z and
       `emotion_scores` are the softmax probabilities of the six emotions. The overlay tokens that
       pushed towards the label (up to 10, strongest first) are appended to `emotion_terms` as
       "overlay kesel:anger+0.84". Without an overlay file nothing changes.
    Incremental (macros/incremental.sql): a night scores the affected posts only.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

{%- set window = var('negation_window') -%}
{%- set labels = emotion_labels() -%}
{%- set opposites = var('emotion_negation_opposites') -%}
{%- set label_list = "['" ~ labels | join("', '") ~ "']" -%}

with

tokenised as (

    select post_uid, tokens, token_alts from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only(content=true) }}

),

matched as (

    select post_key, post_uid, pos, clause, token, term, is_bigram, kind, modifier_value, position
    from {{ ref('int_emotion_tokens_matched') }}
    {{ affected_posts_only(content=true) }}

),

lexicon as (

    select term, emotion, weight from {{ ref('int_emotion_lexicon') }}

),

slang_forms as (

    select slang as form, standard from {{ ref('slang_normalisation') }}
    where standard is not null

),

overlay as (

    select term, emotion, weight, source from {{ ref('int_emotion_overlay') }}

),

overlay_on as (

    select count(*) > 0 as is_on from overlay

),

post_keys as (

    select distinct post_key, post_uid from matched

),

-- 1. the second token of a matched bigram, and an immediate repetition, are not scored
resolved as (

    select
        *,
        coalesce(lag(pos) over w = pos - 1 and lag(is_bigram) over w, false) as is_consumed,
        coalesce(lag(pos) over w = pos - 1 and lag(token) over w = token, false) as is_repeat
    from matched
    window w as (partition by post_key order by pos)

),

roles as (

    select
        post_key,
        pos,
        clause,
        token,
        term,
        is_bigram,
        case when is_bigram or kind is null then 'term' else kind end as role,
        modifier_value,
        position
    from resolved
    where not is_consumed and not is_repeat

),

-- 2. boosters right before or right after a term (after a bigram: after its second token)
boosted as (

    select
        *,
        case
            when lag(role) over w = 'booster' and lag(pos) over w = pos - 1
                and lag(position) over w in ('before', 'both')
                then lag(modifier_value) over w
        end as boost_before,
        case
            when lead(role) over w = 'booster'
                and lead(pos) over w = pos + case when is_bigram then 2 else 1 end
                and lead(position) over w in ('after', 'both')
                then lead(modifier_value) over w
        end as boost_after
    from roles
    window w as (partition by post_key order by pos)

),

-- 3. the closest term, negator or contrast word before each term (boosters skipped)
scoped as (

    select
        *,
        lag(role) over w as prev_role,
        lag(pos) over w as prev_pos,
        lag(clause) over w as prev_clause,
        lag(token) over w as prev_token
    from boosted
    where role in ('term', 'negator', 'contrast')
    window w as (partition by post_key order by pos)

),

last_contrast as (

    select post_key, max(pos) as last_contrast_pos
    from roles
    where role = 'contrast'
    group by post_key

),

terms as (

    select
        s.post_key,
        s.pos,
        s.term,
        coalesce(
            s.prev_role = 'negator' and s.pos - s.prev_pos <= {{ window }} and s.prev_clause = s.clause,
            false
        ) as is_negated,
        s.prev_token as negator_token,
        coalesce(s.boost_before, 0) + coalesce(s.boost_after, 0) as boost,
        -- 4. contrast
        case
            when lc.last_contrast_pos is null then 1.0
            when s.pos < lc.last_contrast_pos then {{ var('contrast_before_weight') }}
            else {{ var('contrast_after_weight') }}
        end as contrast_factor
    from scoped as s
    left join last_contrast as lc
        on lc.post_key = s.post_key
    where s.role = 'term'

),

contributions as (

    select
        t.post_key,
        t.pos,
        case
            when not t.is_negated then l.emotion
            {%- for e, o in opposites.items() %}
            when l.emotion = '{{ e }}' then '{{ o }}'
            {%- endfor %}
        end as emotion,
        concat_ws(' ', case when t.is_negated then t.negator_token end, t.term) as term_label,
        greatest(l.weight + t.boost, 0)
            * t.contrast_factor
            * case when t.is_negated then {{ var('emotion_negation_factor') }} else 1.0 end as contribution
    from terms as t
    inner join lexicon as l
        on l.term = t.term

),

-- 5. evidence per emotion
per_emotion as (

    select post_key, emotion, sum(contribution) as evidence, count(*) as n_terms
    from contributions
    where emotion is not null and contribution > 0
    group by post_key, emotion

),

per_post as (

    select
        e.post_key,
        {%- for lbl in labels %}
        coalesce(sum(e.evidence) filter (where e.emotion = '{{ lbl }}'), 0) as evidence_{{ lbl }},
        {%- endfor %}
        first(e.emotion order by e.evidence desc, e.n_terms desc, list_position({{ label_list }}, e.emotion))
            as top_emotion,
        max(e.evidence) as top_evidence,
        any_value(x.emotion_terms) as emotion_terms
    from per_emotion as e
    left join (
        select
            post_key,
            list(printf('%s:%s%+.2f', term_label, emotion, contribution)
                order by pos, list_position({{ label_list }}, emotion)) as emotion_terms
        from contributions
        where emotion is not null and contribution > 0
        group by post_key
    ) as x
        on x.post_key = e.post_key
    group by e.post_key

),

lexicon_scored as (

    select
        t.post_uid,
        {%- for lbl in labels %}
        coalesce(p.evidence_{{ lbl }}, 0) as evidence_{{ lbl }},
        coalesce(p.evidence_{{ lbl }}, 0)
            / sqrt(pow(coalesce(p.evidence_{{ lbl }}, 0), 2) + {{ var('emotion_alpha') }}) as intensity_{{ lbl }},
        {%- endfor %}
        case
            when p.top_evidence >= {{ var('emotion_min_score') }} then p.top_emotion
            else 'neutral'
        end as lexicon_label,
        coalesce(p.emotion_terms, []) as lexicon_terms
    from tokenised as t
    left join post_keys as k
        on k.post_uid = t.post_uid
    left join per_post as p
        on p.post_key = k.post_key

),

-- 6. the trained overlay (only computed when one exists)
overlay_norms as (

    select distinct n.post_uid, coalesce(s.standard, sa.standard, n.token) as norm
    from (
        select post_uid, unnest(tokens) as token, unnest(token_alts) as token_alt
        from tokenised
        where len(tokens) > 0 and (select is_on from overlay_on)
    ) as n
    left join slang_forms as s
        on s.form = n.token
    left join slang_forms as sa
        on sa.form = n.token_alt

),

overlay_token_sums as (

    select
        n.post_uid,
        o.emotion as class,
        sum(o.weight) as token_sum,
        list(printf('overlay %s:%s%+.2f', o.term, o.emotion, o.weight) order by o.weight desc, o.term)
            filter (where o.weight > 0) as overlay_terms
    from overlay_norms as n
    inner join overlay as o
        on o.term = n.norm and o.source = 'token'
    group by n.post_uid, o.emotion

),

overlay_classes as (

    select
        c.class,
        coalesce(max(o.weight) filter (where o.source = 'bias'), 0) as bias,
        {%- for lbl in labels %}
        coalesce(max(o.weight) filter (where o.source = 'lexicon' and o.term = '{{ lbl }}'), 0)
            as w_{{ lbl }}{{ "," if not loop.last }}
        {%- endfor %}
    from (select unnest({{ label_list }} || ['neutral']) as class) as c
    left join overlay as o
        on o.emotion = c.class
    group by c.class

),

overlay_z as (

    select
        s.post_uid,
        c.class,
        c.bias
        {%- for lbl in labels %}
            + c.w_{{ lbl }} * s.intensity_{{ lbl }}
        {%- endfor %}
            + coalesce(ts.token_sum, 0) as z,
        ts.overlay_terms
    from lexicon_scored as s
    cross join overlay_classes as c
    left join overlay_token_sums as ts
        on ts.post_uid = s.post_uid and ts.class = c.class
    where (select is_on from overlay_on)

),

overlay_shifted as (

    select
        post_uid,
        class,
        z,
        overlay_terms,
        exp(z - max(z) over (partition by post_uid)) as ez
    from overlay_z

),

overlay_scored as (

    select
        post_uid,
        first(class order by z desc, class) as overlay_label,
        first(overlay_terms order by z desc, class) as overlay_terms,
        {%- for lbl in labels %}
        sum(ez) filter (where class = '{{ lbl }}') / sum(ez) as p_{{ lbl }}{{ "," if not loop.last }}
        {%- endfor %}
    from overlay_shifted
    group by post_uid

),

final as (

    select
        s.post_uid,
        coalesce(o.overlay_label, s.lexicon_label) as emotion_label,
        {{ emotion_struct("round(coalesce(o.p_EMOTION, s.intensity_EMOTION), 4)") }} as emotion_scores,
        case
            when o.post_uid is not null
                then list_concat(s.lexicon_terms, coalesce(o.overlay_terms[1:10], []))
            else s.lexicon_terms
        end as emotion_terms
    from lexicon_scored as s
    left join overlay_scored as o
        on o.post_uid = s.post_uid

)

select * from final

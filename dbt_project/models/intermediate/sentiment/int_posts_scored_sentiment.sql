{#-
    Lexicon-and-rules sentiment in SQL, VADER-style, for Indonesian, English and code-mixed text.

    1. Each token is looked up in the Indonesian seed lexicon (wins on conflict), VADER's lexicon and
       the emoji lexicon: as itself, as its cut-to-one-letter variant ("kerenn" -> "keren") and without
       an Indonesian clitic ("-nya", "-lah", "-kah", "-pun"). Two-token entries ("luar biasa", "gak
       jelas") match as a bigram and take precedence over their parts.
    2. A booster beside a lexicon word adds `value` to its magnitude: before it ("sangat", "very") at
       distance 1 (and 2, damped ×0.95), or after it ("banget", "bgt", "sekali", "parah"). A booster
       that is also a lexicon word ("parah", "lumayan") acts as a booster only when it has such a
       neighbour, otherwise it scores as a word.
    3. A SHOUTED lexicon word (when not the whole post is shouted) gains `caps_increment`.
    4. A negator ("tidak", "gak", "bukan", "not", any "...n't") multiplies the first lexicon word after
       it, within `negation_window` tokens and not across a contrast word, by its factor (−0.74).
    5. Contrast ("tapi", "namun", "but", "however"): words before the last contrast word count ×0.5,
       words after it ×1.5.
    6. The sum gains ±0.292 per '!' (at most 4) and is normalised like VADER: s / sqrt(s² + 15);
       |score| < 0.05 is neutral.
    `sentiment_terms` lists every scored term with its final contribution ("tidak bagus:-1.41").
-#}

{%- set window = var('negation_window') -%}

with

tokenised as materialized (

    select
        -- an integer key: the windows below sort by it far faster than by the post_uid string
        row_number() over () as post_key,
        post_uid,
        tokens,
        token_alts,
        shouted_positions,
        word_count,
        exclamation_count
    from {{ ref('int_posts_tokenised') }}

),

lexicon_id as (

    select {{ normalise_phrase('term') }} as term, weight
    from {{ ref('lexicon_id') }}

),

vader as (

    select term, weight from {{ ref('stg_reference__vader_lexicon') }}

),

emoji as (

    select emoji as term, weight from {{ ref('int_sentiment_emoji_lexicon') }}

),

modifiers as (

    select {{ normalise_phrase('term') }} as term, kind, value, position
    from {{ ref('sentiment_modifiers') }}

),

lexicon as (

    select term, weight from lexicon_id
    union all
    select term, weight from vader
    where term not in (select term from lexicon_id)
    union all
    select term, weight from emoji
    where term not in (select term from lexicon_id)
      and term not in (select term from vader)

),

unigrams as (

    select term, weight from lexicon where not contains(term, ' ')

),

bigrams as (

    select term, weight from lexicon where contains(term, ' ')

),

token_rows as (

    select
        post_key,
        unnest(tokens) as token,
        unnest(token_alts) as token_alt,
        unnest(list_transform(range(1, len(tokens)), lambda i: tokens[i] || ' ' || tokens[i + 1]))
            as bigram,
        generate_subscripts(tokens, 1) as pos
    from tokenised
    where len(tokens) > 0

),

looked_up as (

    select
        t.post_key,
        t.pos,
        t.token,
        b.term as bigram_term,
        b.weight as bigram_weight,
        coalesce(u.term, ua.term, uc.term) as uni_term,
        coalesce(u.weight, ua.weight, uc.weight) as uni_weight,
        coalesce(m.kind, ma.kind, case when t.token like '%n''t' then 'negator' end) as kind,
        coalesce(m.value, ma.value, case when t.token like '%n''t' then -0.74 end) as modifier_value,
        coalesce(m.position, ma.position, 'before') as position
    from token_rows as t
    left join bigrams as b
        on b.term = t.bigram
    left join unigrams as u
        on u.term = t.token
    left join unigrams as ua
        on ua.term = t.token_alt
    left join unigrams as uc
        on uc.term = case
            when length(t.token) > 5 and regexp_matches(t.token, '(nya|lah|kah|pun)$')
                then left(t.token, -3)
        end
    left join modifiers as m
        on m.term = t.token
    left join modifiers as ma
        on ma.term = t.token_alt

),

relevant as (

    select *
    from looked_up
    where bigram_term is not null or uni_term is not null or kind is not null

),

-- A matched bigram consumes the next token (unless the bigram itself was consumed by the one before).
bigram_resolved as (

    select
        *,
        coalesce(
            lag(pos) over (partition by post_key order by pos) = pos - 1
            and lag(bigram_term) over (partition by post_key order by pos) is not null,
            false
        ) as is_consumed
    from relevant

),

roles as (

    select
        post_key,
        pos,
        token,
        case
            when is_consumed then null
            when bigram_term is not null then bigram_term
            when kind in ('negator', 'contrast') then null
            else uni_term
        end as lex_term,
        case
            when is_consumed then null
            when bigram_term is not null then bigram_weight
            when kind in ('negator', 'contrast') then null
            else uni_weight
        end as lex_weight,
        case when not is_consumed and bigram_term is null then kind end as kind,
        not is_consumed and bigram_term is not null as is_bigram,
        modifier_value,
        position
    from bigram_resolved

),

-- Neighbourhood of each token: which tokens around it are lexicon words, boosters, negators.
neighbours as (

    select
        *,
        lag(pos) over w as prev_pos,
        lag(lex_weight) over w as prev_lex_weight,
        lead(pos) over w as next_pos,
        lead(lex_weight) over w as next_lex_weight
    from roles
    window w as (partition by post_key order by pos)

),

-- A booster that is also a lexicon word boosts when it has a lexicon neighbour on its side.
booster_roles as (

    select
        *,
        kind = 'booster' and (
            lex_weight is null
            or (position in ('before', 'both') and next_pos = pos + 1 and next_lex_weight is not null)
            or (position in ('after', 'both') and prev_pos = pos - 1 and prev_lex_weight is not null)
        ) as is_booster
    from neighbours

),

words as (

    select
        *,
        case when is_booster then null else lex_weight end as word_weight,
        case
            when kind = 'negator' then 'negator'
            when kind = 'contrast' then 'contrast'
            when is_booster then 'booster'
            when lex_weight is not null and lex_weight <> 0 then 'word'
        end as role,
        case when is_booster and position in ('before', 'both') then modifier_value end as boost_next,
        case when is_booster and position in ('after', 'both') then modifier_value end as boost_prev
    from booster_roles

),

-- The neighbours each word needs, by row offset (lag/lead are much cheaper than RANGE frames).
{%- set depth = [window, 2] | max %}

neighbourhood as (

    select
        *,
        {%- for k in range(1, depth + 1) %}
        lag(pos, {{ k }}) over w as pos_b{{ k }},
        lag(role, {{ k }}) over w as role_b{{ k }},
        lag(modifier_value, {{ k }}) over w as value_b{{ k }},
        lag(token, {{ k }}) over w as token_b{{ k }},
        lag(boost_next, {{ k }}) over w as boost_b{{ k }},
        {%- endfor %}
        lead(pos, 1) over w as pos_a1,
        lead(boost_prev, 1) over w as boost_a1,
        lead(pos, 2) over w as pos_a2,
        lead(boost_prev, 2) over w as boost_a2
    from words
    window w as (partition by post_key order by pos)

),

-- The closest negator before the word within `negation_window` tokens, with only boosters (or
-- nothing relevant) between: another word or a contrast word ends its scope.
in_context as (

    select
        *,
        case
        {%- for k in range(1, window + 1) %}
            when {% for j in range(1, k) %}coalesce(role_b{{ j }}, 'booster') = 'booster' and {% endfor -%}
                role_b{{ k }} = 'negator' and pos - pos_b{{ k }} <= {{ window }} then {{ k }}
        {%- endfor %}
        end as negator_offset,
        case when pos_b1 = pos - 1 then boost_b1 end as boost_before_1,
        case when pos_b1 = pos - 2 then boost_b1 when pos_b2 = pos - 2 then boost_b2 end
            as boost_before_2,
        case when pos_a1 = pos + 1 then boost_a1 end as boost_after_1,
        case when pos_a1 = pos + 2 then boost_a1 when pos_a2 = pos + 2 then boost_a2 end
            as boost_after_2
    from neighbourhood
    where role = 'word'

),

last_contrast as (

    select post_key, max(pos) as last_contrast_pos
    from words
    where role = 'contrast'
    group by post_key

),

scored_words as (

    select
        c.post_key,
        c.pos,
        c.lex_term,
        c.negator_offset is not null as is_negated,
        case c.negator_offset
        {%- for k in range(1, window + 1) %}
            when {{ k }} then c.token_b{{ k }}
        {%- endfor %}
        end as negator_token,
        case c.negator_offset
        {%- for k in range(1, window + 1) %}
            when {{ k }} then c.value_b{{ k }}
        {%- endfor %}
        end as negator_factor,
        c.word_weight
            + sign(c.word_weight) * (
                coalesce(c.boost_before_1, 0)
                + 0.95 * coalesce(c.boost_before_2, 0)
                -- after a bigram ("gak jelas banget") the booster follows its second token
                + coalesce(case when c.is_bigram then c.boost_after_2 else c.boost_after_1 end, 0)
            )
            + case
                when list_contains(t.shouted_positions, c.pos)
                    and len(t.shouted_positions) < t.word_count
                    then sign(c.word_weight) * {{ var('caps_increment') }}
                else 0
            end as emphasised_weight,
        case
            when lc.last_contrast_pos is null then 1.0
            when c.pos < lc.last_contrast_pos then {{ var('contrast_before_weight') }}
            else {{ var('contrast_after_weight') }}
        end as contrast_factor
    from in_context as c
    inner join tokenised as t
        on t.post_key = c.post_key
    left join last_contrast as lc
        on lc.post_key = c.post_key

),

contributions as (

    select
        post_key,
        pos,
        case when is_negated then negator_token || ' ' || lex_term else lex_term end as term_label,
        emphasised_weight
            * case when is_negated then negator_factor else 1.0 end
            * contrast_factor as contribution
    from scored_words

),

summed as (

    select
        post_key,
        sum(contribution) as raw_sum,
        list(printf('%s:%+.2f', term_label, contribution) order by pos) as sentiment_terms
    from contributions
    group by post_key

),

final as (

    select
        t.post_uid,
        coalesce(s.raw_sum, 0)
            + case
                when coalesce(s.raw_sum, 0) = 0 then 0
                else sign(s.raw_sum) * least(t.exclamation_count, 4) * {{ var('exclamation_increment') }}
            end as sentiment_sum,
        coalesce(s.sentiment_terms, []) as sentiment_terms
    from tokenised as t
    left join summed as s
        on s.post_key = t.post_key

)

select
    post_uid,
    round(sentiment_sum / sqrt(sentiment_sum * sentiment_sum + {{ var('sentiment_alpha') }}), 4)
        as sentiment_score,
    case
        when sentiment_sum / sqrt(sentiment_sum * sentiment_sum + {{ var('sentiment_alpha') }})
            >= {{ var('sentiment_threshold') }} then 'positive'
        when sentiment_sum / sqrt(sentiment_sum * sentiment_sum + {{ var('sentiment_alpha') }})
            <= -{{ var('sentiment_threshold') }} then 'negative'
        else 'neutral'
    end as sentiment_label,
    round(sentiment_sum, 3) as sentiment_sum,
    sentiment_terms
from final

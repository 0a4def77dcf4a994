{#-
    The emotion lexicon (seed `emotion_lexicon`) in the tokeniser's normal form: one row per (term,
    emotion), two-token entries marked as bigrams. `source_term` is the term as written in the seed; a
    data test checks the two agree, so a seed term that could never match a token is caught.
-#}

with

seed as (

    select term as source_term, emotion, weight
    from {{ ref('emotion_lexicon') }}

),

final as (

    select
        {{ normalise_phrase('source_term') }} as term,
        emotion,
        weight,
        contains({{ normalise_phrase('source_term') }}, ' ') as is_bigram,
        source_term
    from seed

)

select * from final

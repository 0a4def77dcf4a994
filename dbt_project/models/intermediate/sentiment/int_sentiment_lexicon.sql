{#-
    The sentiment lexicon: every scored term once, from the first source that has it. Look-up order:
    the Indonesian seed `lexicon_id` (wins on conflict), the English supplement seed
    `lexicon_en_supplement` (everyday review/social words VADER lacks, and a few VADER words
    re-weighted, e.g. "like" is mostly a preposition), VADER's lexicon, then the emoji lexicon.
    Terms are in the tokeniser's normal form; two-token entries ("luar biasa", "gak jelas", "i like")
    are bigrams (`is_bigram`).
-#}

with

lexicon_id as (

    select {{ normalise_phrase('term') }} as term, weight
    from {{ ref('lexicon_id') }}

),

lexicon_en as (

    select {{ normalise_phrase('term') }} as term, weight
    from {{ ref('lexicon_en_supplement') }}

),

vader as (

    select term, weight from {{ ref('stg_reference__vader_lexicon') }}

),

emoji as (

    select emoji as term, weight from {{ ref('int_sentiment_emoji_lexicon') }}

),

lexicon as (

    select term, weight, 'lexicon_id' as lexicon_source from lexicon_id
    union all
    select term, weight, 'lexicon_en_supplement' from lexicon_en
    where term not in (select term from lexicon_id)
    union all
    select term, weight, 'vader' from vader
    where term not in (select term from lexicon_id)
      and term not in (select term from lexicon_en)
    union all
    select term, weight, 'emoji' from emoji
    where term not in (select term from lexicon_id)
      and term not in (select term from lexicon_en)
      and term not in (select term from vader)

),

final as (

    select term, weight, contains(term, ' ') as is_bigram, lexicon_source
    from lexicon

)

select * from final

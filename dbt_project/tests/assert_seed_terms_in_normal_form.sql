{#-
    Lexicon, modifier, keyword and cue terms are compared with post tokens in the tokeniser's normal
    form. A term that changes under normalisation (or vanishes: digits, punctuation) could never match.
-#}

with

terms as (

    select 'lexicon_id' as seed, term from {{ ref('lexicon_id') }}
    union all
    select 'lexicon_en_supplement', term from {{ ref('lexicon_en_supplement') }}
    union all
    select 'sentiment_modifiers', term from {{ ref('sentiment_modifiers') }}
    union all
    select 'lang_markers', term from {{ ref('lang_markers') }}
    union all
    select 'topic_keywords', term from {{ ref('topic_keywords') }}
    union all
    select 'misinfo_cues', cue from {{ ref('misinfo_cues') }}

),

normalised as (

    select seed, term, {{ normalise_phrase('term') }} as normal_form
    from terms

)

select *
from normalised
where normal_form = ''
   or (seed in ('lexicon_id', 'lexicon_en_supplement', 'sentiment_modifiers', 'lang_markers')
       and normal_form <> lower(term))
   or (seed in ('lexicon_id', 'lexicon_en_supplement') and len(string_split(normal_form, ' ')) > 2)
   or (seed = 'sentiment_modifiers' and contains(normal_form, ' '))
   or (seed = 'lang_markers' and contains(normal_form, ' '))

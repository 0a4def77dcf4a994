{#-
    Slang forms and their standard forms must be single tokens already in the tokeniser's normal form:
    the slang side is compared with post tokens, the standard side with lexicon and modifier terms.
-#}

with

terms as (

    select slang as term from {{ ref('slang_normalisation') }}
    union all
    select standard from {{ ref('slang_normalisation') }}

)

select term, {{ normalise_phrase('term') }} as normal_form
from terms
where {{ normalise_phrase('term') }} <> lower(term)
   or contains({{ normalise_phrase('term') }}, ' ')
   or {{ normalise_phrase('term') }} = ''

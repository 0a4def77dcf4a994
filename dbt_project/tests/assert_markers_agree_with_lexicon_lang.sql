{#- A word listed as a marker of one language must not be a lexicon term of the other. -#}

select m.term, m.lang as marker_lang, l.lang as lexicon_lang
from {{ ref('lang_markers') }} as m
inner join {{ ref('lexicon_id') }} as l
    on l.term = m.term
where l.lang <> m.lang

{#-
    The trained emotion overlay, when one exists (macros/emotion.sql, discourse.transform.emotion_train):
    `source = 'token'` rows are a token's weight towards a class, `source = 'lexicon'` rows the weight
    of the lexicon intensity of emotion `term` towards class `emotion`, `source = 'bias'` rows a class's
    intercept. Classes are the six emotions and `neutral`. Empty without an overlay file.
-#}

select
    term,
    emotion,
    weight,
    source
from {{ emotion_overlay_relation() }}
where term is not null and emotion is not null and weight is not null and isfinite(weight)

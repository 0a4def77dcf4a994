{#-
    The trained overlay, when one exists (macros/sentiment_overlay.sql): `source = 'token'` rows are
    token weights, `source = 'param'` rows the fitted `lexicon_scale`, `bias`, `threshold_negative` and
    `threshold_positive`. Empty without an overlay file.
-#}

select
    term,
    weight,
    source
from {{ sentiment_overlay_relation() }}
where term is not null and weight is not null and isfinite(weight)

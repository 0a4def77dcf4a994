{#-
    The text families whose clusters an incremental night recomputes (F): the families the texts of
    `int_texts_regrouped` had before the night (`int_text_families_removed`) and have after it. Every
    other family keeps the same texts, hence the same posts and clusters. Empty on a full build.
-#}

/* depends_on: {{ ref('int_texts_regrouped') }} */
/* depends_on: {{ ref('int_text_families') }} */

{%- if incremental_night() %}

select family from {{ ref('int_text_families').schema }}.int_text_families_removed
union
select f.family
from {{ ref('int_text_families') }} as f
inner join {{ ref('int_texts_regrouped') }} as a
    on a.text_hash = f.text_hash

{%- else %}

select null::uhugeint as family where false

{%- endif %}

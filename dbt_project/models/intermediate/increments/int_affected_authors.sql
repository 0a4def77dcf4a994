{#-
    The authors whose row in `authors` an incremental night recomputes: the author of every affected
    post, before the night and after it. Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

{%- if incremental_night() %}

select old_author_key as author_key from {{ ref('int_posts_affected') }} where old_author_key is not null
union
select author_key from {{ ref('int_posts_delta') }} where author_key is not null

{%- else %}

select null::varchar as author_key where false

{%- endif %}

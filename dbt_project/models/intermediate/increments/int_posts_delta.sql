{#-
    The current lake rows (deduplicated, `stg_lake__posts`) of the posts an incremental night
    re-enriches. A post removed from the lake (its only batch rejected) is affected but has no row
    here: the models delete its rows and insert nothing. Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_affected') }} */

select p.*
from {{ ref('stg_lake__posts') }} as p
{%- if incremental_night() %}
where p.post_uid in (select post_uid from {{ ref('int_posts_affected') }})
{%- else %}
where false
{%- endif %}

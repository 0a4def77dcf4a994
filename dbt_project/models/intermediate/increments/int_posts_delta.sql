{#-
    The current lake rows (deduplicated, `stg_lake__posts`) of the posts an incremental night
    re-enriches. A post removed from the lake (its only batch rejected) is affected but has no row
    here: the models delete its rows and insert nothing. Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_affected') }} */

/* depends_on: {{ ref('stg_lake__posts') }} */

{%- if incremental_night() %}
{#- Read from the lake files that hold a copy of an affected post only (macros/lake_posts.sql). #}
{{ lake_posts_of(ref('int_posts_affected')) }}
{%- else %}
select * from {{ ref('stg_lake__posts') }} where false
{%- endif %}

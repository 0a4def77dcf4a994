{#-
    The current lake rows (deduplicated, `stg_lake__posts`) of the posts whose lake rows changed
    (`int_posts_delta_keys`): the posts an incremental night re-enriches from their text. A post
    whose coordination figures alone changed is not read again (`marts.posts` updates its cluster
    and risk in place). A post removed from the lake (its only batch rejected) has no row here: the
    models delete its rows and insert nothing. Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_delta_keys') }} */

/* depends_on: {{ ref('stg_lake__posts') }} */

{%- if incremental_night() %}
{#- Read from the lake files that hold a copy of an affected post only (macros/lake_posts.sql). #}
{{ lake_posts_of(ref('int_posts_delta_keys')) }}
{%- else %}
select * from {{ ref('stg_lake__posts') }} where false
{%- endif %}

{#-
    The posts whose edges an incremental night recomputes, with the dates they were or are on: the
    affected posts (`int_posts_affected`) and the posts pointing at one of them (their target author
    may come from the lake: a parent that arrives late, or is rejected, changes its replies' edges).
    Empty on a full build.
-#}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_post_edges_stated') }} */
{%- if incremental_night() %}
with
affected as (
    select post_uid, old_created_date from {{ ref('int_posts_affected') }}
),
pointing as (
    select distinct post_uid
    from {{ ref('int_post_edges_stated') }}
    where target_post_uid in (select post_uid from affected)
),
keys as (
    select post_uid from affected
    union
    select post_uid from pointing
)
select
    k.post_uid,
    p.created_date,
    a.old_created_date
from keys as k
left join {{ ref('posts') }} as p
    on p.post_uid = k.post_uid
left join affected as a
    on a.post_uid = k.post_uid
{%- else %}
select null::varchar as post_uid, null::date as created_date, null::date as old_created_date where false
{%- endif %}

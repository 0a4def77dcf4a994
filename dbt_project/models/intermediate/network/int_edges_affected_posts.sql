{#-
    The posts whose edges an incremental night recomputes, with the dates they were or are on: the
    affected posts (`int_posts_affected`) and the posts pointing at a post whose lake row changed
    (`int_posts_delta_keys`: a parent that arrives late, or is rejected, changes its replies' target
    author). Empty on a full build.

    `edges_changed`: the post's edges themselves may have changed (its lake row changed, or it points
    at a post whose row did). The other affected posts changed only their coordination figures (a
    late post joined their cluster): `int_post_edges` rewrites them for the risk score it carries,
    but their source, target, type and time are as before, so `author_edges` leaves their days alone.
-#}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta_keys') }} */
/* depends_on: {{ ref('int_post_edges_stated') }} */
{%- if incremental_night() %}
with
affected as (
    select post_uid, old_created_date from {{ ref('int_posts_affected') }}
),
changed as (
    select post_uid from {{ ref('int_posts_delta_keys') }}
),
pointing as (
    select distinct post_uid
    from {{ ref('int_post_edges_stated') }}
    where target_post_uid in (select post_uid from changed)
),
edges_changed as (
    select post_uid from changed
    union
    select post_uid from pointing
),
keys as (
    select post_uid from affected
    union
    select post_uid from pointing
)
select
    k.post_uid,
    p.created_date,
    a.old_created_date,
    k.post_uid in (select post_uid from edges_changed) as edges_changed
from keys as k
left join {{ ref('posts') }} as p
    on p.post_uid = k.post_uid
left join affected as a
    on a.post_uid = k.post_uid
{%- else %}
select null::varchar as post_uid, null::date as created_date, null::date as old_created_date,
    null::boolean as edges_changed
where false
{%- endif %}

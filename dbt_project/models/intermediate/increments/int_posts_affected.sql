{#-
    The posts an incremental night re-enriches, with what they were before it (NULL for new posts):
    the posts whose lake rows changed (`int_posts_delta_keys`) and the posts whose coordination
    figures changed (a new post joined, started or grew their cluster, possibly days earlier: see
    `int_posts_clustered`). Their old date, platform, author and domains tell the daily marts,
    `authors` and `domains` what to recompute. Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_delta_keys') }} */
/* depends_on: {{ ref('int_posts_clustered') }} */
/* depends_on: {{ ref('int_families_changed') }} */

{%- set previous_posts = previous_relation('marts', 'posts') %}

{%- if incremental_night() %}

with

lake_changed as (

    select post_uid from {{ ref('int_posts_delta_keys') }}

),

cluster_changed as (

    -- int_posts_clustered rewrote the rows of the families in int_families_changed (and of the posts
    -- in int_posts_delta_keys); its pre-hook kept the rows it deleted in int_posts_clustered_previous
    -- (macros/incremental.sql). Every other row is as the previous night left it.
    select coalesce(n.post_uid, o.post_uid) as post_uid
    from (
        select * from {{ ref('int_posts_clustered') }}
        where family in (select family from {{ ref('int_families_changed') }})
    ) as n
    full outer join {{ ref('int_posts_clustered').schema }}.int_posts_clustered_previous as o
        on o.post_uid = n.post_uid
    where n.post_uid is null or o.post_uid is null
       or (n.cluster_id, n.first_seen_at, n.last_seen_at, n.n_posts, n.n_accounts, n.platforms,
           n.span_minutes, n.coordination_score)
          is distinct from
          (o.cluster_id, o.first_seen_at, o.last_seen_at, o.n_posts, o.n_accounts, o.platforms,
           o.span_minutes, o.coordination_score)

),

keys as (

    select post_uid from lake_changed
    union
    select post_uid from cluster_changed

),

final as (

    select
        k.post_uid,
        {%- if previous_posts is not none %}
        p.created_date as old_created_date,
        p.platform as old_platform,
        p.author_key as old_author_key,
        p.link_domains as old_link_domains
    from keys as k
    left join {{ previous_posts }} as p
        on p.post_uid = k.post_uid
        {%- else %}
        null::date as old_created_date,
        null::varchar as old_platform,
        null::varchar as old_author_key,
        null::varchar[] as old_link_domains
    from keys as k
        {%- endif %}

)

select * from final

{%- else %}

select
    null::varchar as post_uid,
    null::date as old_created_date,
    null::varchar as old_platform,
    null::varchar as old_author_key,
    null::varchar[] as old_link_domains
where false

{%- endif %}

{#-
    The interactions each post states, one row per post x target x type, before the lake resolves
    what the export left out (`int_post_edges`):

    * `reply`, `repost`, `quote`: the post it answers, reposts or quotes (`target_post_uid`, from
      `reply_to_id`, `repost_of_id`, `quote_of_id`) and, where the export names it, that post's
      author (`*_author_key`, the same keyed hash as `author_key`, made by the lake writer from the
      platform's user id);
    * `mention`: every account the post mentions (`mention_keys`), keyed from the platform's user id,
      or from the platform plus the lower-cased handle when the export gives only a handle
      (`target_by_handle`).

    Post-level and incremental like the other enrichments (macros/incremental.sql).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */
/* depends_on: {{ ref('int_posts_delta_keys') }} */

with

posts as (

    select
        post_uid, platform, reply_to_id, repost_of_id, quote_of_id,
        reply_to_author_key, repost_of_author_key, quote_of_author_key, mention_keys
    from {{ posts_to_enrich() }}

),

referenced as (

    select post_uid, 'reply' as edge_type, platform || ':' || reply_to_id as target_post_uid,
           reply_to_author_key as target_author_key
    from posts
    where reply_to_id is not null or reply_to_author_key is not null

    union all

    select post_uid, 'repost', platform || ':' || repost_of_id, repost_of_author_key
    from posts
    where repost_of_id is not null or repost_of_author_key is not null

    union all

    select post_uid, 'quote', platform || ':' || quote_of_id, quote_of_author_key
    from posts
    where quote_of_id is not null or quote_of_author_key is not null

),

mentioned as (

    select distinct post_uid, m.author_key as target_author_key, m.by_handle as target_by_handle
    from (select post_uid, unnest(mention_keys) as m from posts)
    where m.author_key is not null

),

final as (

    select post_uid, edge_type, target_post_uid, target_author_key, false as target_by_handle
    from referenced

    union all

    select post_uid, 'mention', null, target_author_key, coalesce(target_by_handle, false)
    from mentioned

)

select * from final

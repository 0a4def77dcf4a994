{#-
    The conversation network: one row per (source account, target account, edge type, day), with
    `edge_type` one of `repost`, `quote`, `reply`, `mention`. Both ends are pseudonymised author keys
    (the same keyed hash as `authors.author_key`); a target known only by its handle is keyed from the
    platform plus the lower-cased handle and marked `target_by_handle`. No handle is kept.

    Incremental: a night recomputes the days of the posts whose edges changed
    (`int_edges_affected_posts`).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where day in (select created_date from {{ ref('int_edges_affected_posts') }} union select old_created_date from {{ ref('int_edges_affected_posts') }}){% else %}select 1{% endif %}",
) }}
/* depends_on: {{ ref('int_edges_affected_posts') }} */

with

edges as (

    select post_uid, platform, created_at, created_date, source_author_key, target_author_key,
           target_by_handle, edge_type
    from {{ ref('int_post_edges') }}
    {%- if is_incremental() %}
    where created_date in (
        select created_date from {{ ref('int_edges_affected_posts') }}
        union
        select old_created_date from {{ ref('int_edges_affected_posts') }}
    )
    {%- endif %}

),

final as (

    select
        source_author_key,
        target_author_key,
        target_by_handle,
        edge_type,
        created_date as day,
        count(*) as weight,
        min(created_at) as first_at,
        max(created_at) as last_at,
        list(distinct platform order by platform) as platforms,
        list(post_uid order by created_at, post_uid)[1:{{ var('network_sample_posts', 5) }}]
            as sample_post_uids
    from edges
    group by source_author_key, target_author_key, target_by_handle, edge_type, created_date

)

select * from final

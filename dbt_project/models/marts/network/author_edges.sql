{#-
    The conversation network: one row per (source account, target account, edge type, day), with
    `edge_type` one of `repost`, `quote`, `reply`, `mention`. Both ends are pseudonymised author keys
    (the same keyed hash as `authors.author_key`); a target known only by its handle is keyed from the
    platform plus the lower-cased handle and marked `target_by_handle`. No handle is kept.

    Incremental: a night recomputes the days of the posts whose edges changed
    (`int_edges_affected_posts` where `edges_changed`): a post whose cluster alone changed keeps its
    edges, and its day is not recounted.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where day in (select created_date from {{ ref('int_edges_affected_posts') }} where edges_changed union select old_created_date from {{ ref('int_edges_affected_posts') }} where edges_changed){% else %}select 1{% endif %}",
    post_hook="{{ insert_post_parts() }}",
) }}
/* depends_on: {{ ref('int_edges_affected_posts') }} */
{%- set affected_days -%}
    created_date in (
        select created_date from {{ ref('int_edges_affected_posts') }} where edges_changed
        union
        select old_created_date from {{ ref('int_edges_affected_posts') }} where edges_changed
    )
{%- endset %}
{#- Built in parts of whole days past `dbt_part_posts` edges (macros/post_parts.sql): every group is
    one day's, so a part by day holds whole groups. -#}
{%- set parts = post_part_count(
    ref('int_post_edges'), '(select 1 from ' ~ ref('int_post_edges') ~ ' where ' ~ affected_days ~ ')') %}

with

edges as (

    select post_uid, platform, created_at, created_date, source_author_key, target_author_key,
           target_by_handle, edge_type
    from {{ ref('int_post_edges') }}
    {%- if is_incremental() %}
    where {{ affected_days }}
        {{ post_part_filter('created_date', parts, 'and') }}
    {%- else %}
    {{ post_part_filter('created_date', parts, 'where') }}
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

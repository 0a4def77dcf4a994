{#-
    Who interacts with whom, one row per post x target account x type: the stated interactions
    (`int_post_edges_stated`), with the target author resolved from the lake where the export did not
    name it (a reply whose parent post is in the lake gets the parent's `author_key`), and the source
    post's own figures (topic, sentiment, risk, hashtags, link domains) for the network marts.

    An interaction whose target account is neither stated nor in the lake is not an edge (nothing is
    invented). Self-interactions (a reply in one's own thread) are kept: the platform states them;
    the graph marts drop self-loops.

    Incremental: a night re-resolves the affected posts and the posts that point at them (a parent
    that arrives late, or is rejected, changes its replies' edges), so the result equals a full build.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where post_uid in (select post_uid from {{ ref('int_edges_affected_posts') }}){% else %}select 1{% endif %}",
    post_hook="{{ insert_post_parts() }}",
) }}
/* depends_on: {{ ref('int_edges_affected_posts') }} */
{#- built in parts of the source posts past `dbt_part_posts` edges (macros/post_parts.sql) -#}
{%- set parts = post_part_count(ref('int_post_edges_stated'), ref('int_edges_affected_posts')) %}

with

stated as (

    select * from {{ ref('int_post_edges_stated') }}
    {%- if is_incremental() %}
    where post_uid in (select post_uid from {{ ref('int_edges_affected_posts') }})
        {{ post_part_filter('post_uid', parts, 'and') }}
    {%- else %}
    {{ post_part_filter('post_uid', parts, 'where') }}
    {%- endif %}

),

-- The posts the edges need: their sources, and the targets whose author the export did not state.
-- On a night a small share of `posts`: reading and holding every post for them cost most of the
-- model at 10M posts.
posts as (

    select post_uid, platform, created_at, created_date, author_key, primary_topic, topics, hashtags,
           link_domains, sentiment_score, misinfo_risk_score
    from {{ ref('posts') }}
    {%- if is_incremental() %}
    where post_uid in (
        select post_uid from stated
        union all
        select target_post_uid from stated where target_author_key is null
    )
    {%- endif %}

),

resolved as (

    select
        s.post_uid,
        s.edge_type,
        s.target_post_uid,
        coalesce(s.target_author_key, t.author_key) as target_author_key,
        s.target_by_handle,
        s.target_author_key is null and t.author_key is not null as target_from_lake
    from stated as s
    left join posts as t
        on t.post_uid = s.target_post_uid
        and s.target_author_key is null

),

final as (

    select
        r.post_uid,
        p.platform,
        p.created_at,
        p.created_date,
        p.author_key as source_author_key,
        r.target_author_key,
        r.target_by_handle,
        r.target_from_lake,
        r.edge_type,
        r.target_post_uid,
        p.primary_topic,
        p.topics,
        p.hashtags,
        p.link_domains as domains,
        p.sentiment_score,
        p.misinfo_risk_score
    from resolved as r
    inner join posts as p
        on p.post_uid = r.post_uid
    where r.target_author_key is not null
        and p.author_key is not null

)

select * from final

{#-
    One row per post: the canonical columns (raw stays in the lake) and every derived score.

    Incremental (macros/incremental.sql): a night deletes and re-inserts the posts whose lake rows
    changed (`int_posts_delta_keys`), and updates in place the cluster and misinformation columns of
    the posts whose coordination figures alone changed (a late post joined their cluster, possibly
    weeks away): everything else in their rows comes from their unchanged lake row and text, so the
    night neither reads their lake files again nor rewrites what they say.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
    post_hook="{{ update_coordination_only_posts() }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */
/* depends_on: {{ ref('int_posts_delta_keys') }} */
/* depends_on: {{ ref('int_affected_dates') }} */

with

posts as (

    select * exclude (raw) from {{ posts_to_enrich() }}

),

signals as (

    select * from {{ ref('int_posts_signals') }}

),

final as (

    select
        p.post_uid,
        p.platform,
        p.post_id,
        p.created_at,
        p.created_date,
        p.author_key,
        p.author_handle,
        {{ published_text('p.text') }} as text,
        p.lang_declared,
        g.lang,
        g.lang_method,
        g.lang_score as lang_detected_score,
        g.lang_shares,
        p.kind,
        p.reply_to_id,
        p.thread_id,
        p.repost_of_id,
        p.quote_of_id,
        {{ published_url('p.url') }} as url,
        p.like_count,
        p.share_count,
        p.reply_count,
        p.view_count,
        p.hashtags,
        {{ published_mentions('p') }} as mentions,
        {{ published_links('p.links') }} as links,
        coalesce(g.link_domains, []) as link_domains,
        p.media_count,
        g.sentiment_score,
        g.sentiment_label,
        g.sentiment_terms,
        g.emotion_label,
        g.emotion_scores,
        g.emotion_terms,
        g.topics,
        g.primary_topic,
        g.topic_terms,
        g.misinfo_risk_score,
        g.misinfo_risk_level,
        g.misinfo_reasons,
        g.cluster_id,
        coalesce(g.matched_claim_ids, []) as matched_claim_ids,
        p.source_file,
        p.source_record,
        p.export_format,
        p.batch_id,
        p.ingested_at
    from posts as p
    left join signals as g
        on g.post_uid = p.post_uid

)

select * from final

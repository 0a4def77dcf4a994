{#-
    One row per post: the canonical columns (raw stays in the lake) and every derived score.
    Incremental (macros/incremental.sql): a night deletes and re-inserts the affected posts only.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts() }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */
/* depends_on: {{ ref('int_affected_dates') }} */

with

posts as (

    select * exclude (raw) from {{ posts_to_enrich() }}

),

langs as (

    select post_uid, lang, lang_method, lang_score, lang_shares
    from {{ ref('int_posts_detected_lang') }}
    {{ affected_posts_only() }}

),

sentiment as (

    select post_uid, sentiment_score, sentiment_label, sentiment_terms
    from {{ ref('int_posts_scored_sentiment') }}
    {{ affected_posts_only() }}

),

emotions as (

    select post_uid, emotion_label, emotion_scores, emotion_terms
    from {{ ref('int_posts_scored_emotion') }}
    {{ affected_posts_only() }}

),

topics as (

    select post_uid, topics, primary_topic, topic_terms
    from {{ ref('int_posts_tagged_topics') }}
    {{ affected_posts_only() }}

),

misinfo as (

    select post_uid, misinfo_risk_score, misinfo_risk_level, misinfo_reasons
    from {{ ref('int_posts_scored_misinfo') }}
    {{ affected_posts_only() }}

),

clusters as (

    select post_uid, cluster_id from {{ ref('int_posts_clustered') }} {{ affected_posts_only() }}

),

claims as (

    select post_uid, list(claim_id order by match_score desc, claim_id) as matched_claim_ids
    from {{ ref('int_posts_matched_claims') }}
    {{ affected_posts_only() }}
    group by post_uid

),

domains as (

    select post_uid, list(distinct registered_domain order by registered_domain) as link_domains
    from {{ ref('int_post_links_parsed') }}
    {{ affected_posts_only() }}
    group by post_uid

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
        l.lang,
        l.lang_method,
        l.lang_score as lang_detected_score,
        l.lang_shares,
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
        coalesce(d.link_domains, []) as link_domains,
        p.media_count,
        s.sentiment_score,
        s.sentiment_label,
        s.sentiment_terms,
        e.emotion_label,
        e.emotion_scores,
        e.emotion_terms,
        t.topics,
        t.primary_topic,
        t.topic_terms,
        m.misinfo_risk_score,
        m.misinfo_risk_level,
        m.misinfo_reasons,
        k.cluster_id,
        coalesce(c.matched_claim_ids, []) as matched_claim_ids,
        p.source_file,
        p.source_record,
        p.export_format,
        p.batch_id,
        p.ingested_at
    from posts as p
    left join langs as l
        on l.post_uid = p.post_uid
    left join sentiment as s
        on s.post_uid = p.post_uid
    left join emotions as e
        on e.post_uid = p.post_uid
    left join topics as t
        on t.post_uid = p.post_uid
    left join misinfo as m
        on m.post_uid = p.post_uid
    left join domains as d
        on d.post_uid = p.post_uid
    left join clusters as k
        on k.post_uid = p.post_uid
    left join claims as c
        on c.post_uid = p.post_uid

)

select * from final

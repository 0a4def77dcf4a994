{#- One row per post: the canonical columns (raw stays in the lake) and every derived score. -#}

with

posts as (

    select * exclude (raw) from {{ ref('stg_lake__posts') }}

),

langs as (

    select post_uid, lang, lang_method, detected_score
    from {{ ref('int_posts_detected_lang') }}

),

sentiment as (

    select post_uid, sentiment_score, sentiment_label, sentiment_terms
    from {{ ref('int_posts_scored_sentiment') }}

),

topics as (

    select post_uid, topics, primary_topic, topic_terms
    from {{ ref('int_posts_tagged_topics') }}

),

misinfo as (

    select post_uid, misinfo_risk_score, misinfo_risk_level, misinfo_reasons
    from {{ ref('int_posts_scored_misinfo') }}

),

clusters as (

    select post_uid, cluster_id from {{ ref('int_posts_clustered') }}

),

claims as (

    select post_uid, list(claim_id order by match_score desc, claim_id) as matched_claim_ids
    from {{ ref('int_posts_matched_claims') }}
    group by post_uid

),

domains as (

    select post_uid, list(distinct registered_domain order by registered_domain) as link_domains
    from {{ ref('int_post_links_parsed') }}
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
        p.text,
        p.lang_declared,
        l.lang,
        l.lang_method,
        l.detected_score as lang_detected_score,
        p.kind,
        p.reply_to_id,
        p.thread_id,
        p.repost_of_id,
        p.quote_of_id,
        p.url,
        p.like_count,
        p.share_count,
        p.reply_count,
        p.view_count,
        p.hashtags,
        p.mentions,
        p.links,
        coalesce(d.link_domains, []) as link_domains,
        p.media_count,
        s.sentiment_score,
        s.sentiment_label,
        s.sentiment_terms,
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

{#-
    Every derived signal of a post, one row per post (the language model has one row per post; the
    others join to it): the right-hand side of `marts.posts`.

    `marts.posts` joins the lake's rows to this one table instead of to eight. A query that holds
    eight hash tables at once cannot spill them all, and under a DuckDB `memory_limit` of 2 GB it
    failed at a million posts; two steps of a few joins each stay inside it.

    A table rebuilt every run: on an incremental night it holds the affected posts only (the posts
    `marts.posts` rewrites), on a full build every post. (A table's `is_incremental()` is always
    false, so `affected_posts_only()` would keep every post: `night_posts_only()` asks the night.)
-#}

/* depends_on: {{ ref('int_posts_affected') }} */

with

langs as (

    select post_uid, lang, lang_method, lang_score, lang_shares
    from {{ ref('int_posts_detected_lang') }}
    {{ night_posts_only() }}

),

sentiment as (

    select post_uid, sentiment_score, sentiment_label, sentiment_terms
    from {{ ref('int_posts_scored_sentiment') }}
    {{ night_posts_only() }}

),

emotions as (

    select post_uid, emotion_label, emotion_scores, emotion_terms
    from {{ ref('int_posts_scored_emotion') }}
    {{ night_posts_only() }}

),

topics as (

    select post_uid, topics, primary_topic, topic_terms
    from {{ ref('int_posts_tagged_topics') }}
    {{ night_posts_only() }}

),

misinfo as (

    select post_uid, misinfo_risk_score, misinfo_risk_level, misinfo_reasons
    from {{ ref('int_posts_scored_misinfo') }}
    {{ night_posts_only() }}

),

clusters as (

    select post_uid, cluster_id from {{ ref('int_posts_clustered') }} {{ night_posts_only() }}

),

claims as (

    select post_uid, list(claim_id order by match_score desc, claim_id) as matched_claim_ids
    from {{ ref('int_posts_matched_claims') }}
    {{ night_posts_only() }}
    group by post_uid

),

domains as (

    select post_uid, list(distinct registered_domain order by registered_domain) as link_domains
    from {{ ref('int_post_links_parsed') }}
    {{ night_posts_only() }}
    group by post_uid

),

final as (

    select
        l.post_uid,
        l.lang,
        l.lang_method,
        l.lang_score,
        l.lang_shares,
        d.link_domains,
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
        c.matched_claim_ids
    from langs as l
    left join sentiment as s
        on s.post_uid = l.post_uid
    left join emotions as e
        on e.post_uid = l.post_uid
    left join topics as t
        on t.post_uid = l.post_uid
    left join misinfo as m
        on m.post_uid = l.post_uid
    left join domains as d
        on d.post_uid = l.post_uid
    left join clusters as k
        on k.post_uid = l.post_uid
    left join claims as c
        on c.post_uid = l.post_uid

)

select * from final

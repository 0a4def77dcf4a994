{#-
    Topics from bilingual keywords (seed `topic_keywords`, matched as phrases in normal form, an
    English possessive "'s" dropped on both sides). The longest match wins: a keyword inside a longer matched phrase at the same place does not count
    ("kesehatan mental" scores mental health only, not health through "kesehatan").

    A topic's score is the sum of the weights of its distinct matched terms; the post carries every
    topic whose score reaches `topic_min_score`, in descending score order. `primary_topic` is the
    highest-scoring one; ties go to the topic with more matched terms, then to the taxonomy's order
    (its row order in the seed is not stable, so: alphabetical topic_id). A post that matches no
    topic has `topics = []` and `primary_topic = 'other'`.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
    post_hook="{{ insert_post_parts() }}",
) }}
{#- built in parts past `dbt_part_posts` posts (macros/post_parts.sql) -#}
{%- set parts = post_part_count(ref('int_posts_tokenised')) -%}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

with

tokenised as materialized (

    -- an integer key: grouping and joining by it is far cheaper than by the post_uid string
    select
        row_number() over () as post_key,
        post_uid,
        -- English possessives match their noun: "china's" is "china", "britain's got talent" is
        -- matched as "britain got talent"
        list_transform(tokens, lambda t: case when suffix(t, '''s') then left(t, -2) else t end) as tokens
    from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only(parts=parts, content=true) }}

),

keywords as (

    select
        topic_id,
        regexp_replace({{ normalise_phrase('term') }}, '''s( |$)', '\1', 'g') as term,
        max(weight) as weight
    from {{ ref('topic_keywords') }}
    group by all

),

matches as (

    select
        post_key,
        pos,
        term,
        pos + len(string_split(term, ' ')) - 1 as last_pos
    from {{ match_phrases('tokenised', 'keywords', key='post_key') }}

),

-- Longest match wins: a keyword found inside a longer matched phrase at the same place does not count
-- ("kesehatan mental" is mental health, not also "kesehatan"; "pelayanan publik" is not customer care).
covered as (

    select distinct s.post_key, s.pos, s.term
    from matches as s
    inner join matches as l
        on l.post_key = s.post_key
        and l.pos <= s.pos
        and l.last_pos >= s.last_pos
        and l.last_pos - l.pos > s.last_pos - s.pos

),

kept_matches as (

    select m.post_key, m.term
    from matches as m
    anti join covered as c
        on c.post_key = m.post_key
        and c.pos = m.pos
        and c.term = m.term

),

topic_terms as (

    select distinct
        m.post_key,
        k.topic_id,
        k.term,
        k.weight
    from kept_matches as m
    inner join keywords as k
        on k.term = m.term

),

topic_scores as (

    select
        post_key,
        topic_id,
        list_sum(list(weight order by term)) as topic_score,  -- in one order: the same float every run
        count(*) as term_count,
        list(term order by weight desc, term) as terms
    from topic_terms
    group by post_key, topic_id
    having topic_score >= {{ var('topic_min_score') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by post_key
            order by topic_score desc, term_count desc, topic_id
        ) as topic_rank
    from topic_scores

),

per_post as (

    select
        post_key,
        list(topic_id order by topic_rank) as topics,
        flatten(
            list(list_transform(terms, lambda x: topic_id || ':' || x) order by topic_rank)
        ) as topic_terms,
        min(topic_id) filter (where topic_rank = 1) as primary_topic,
        min(topic_score) filter (where topic_rank = 1) as primary_topic_score
    from ranked
    group by post_key

),

final as (

    select
        t.post_uid,
        coalesce(p.topics, []) as topics,
        coalesce(p.primary_topic, 'other') as primary_topic,
        coalesce(p.primary_topic_score, 0) as primary_topic_score,
        coalesce(p.topic_terms, []) as topic_terms
    from tokenised as t
    left join per_post as p
        on p.post_key = t.post_key

)

select * from final

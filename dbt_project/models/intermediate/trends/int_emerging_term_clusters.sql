{#-
    Emerging stories, step 1: the day's spiking terms clustered by co-occurrence in the same posts
    (docs/emerging-stories.md).

    For each date:

    1. candidates: the terms, bigrams and hashtags trending that day (`trending_terms.is_trending`),
       the strongest `emerging_max_terms` by spike score;
    2. links: two candidates are linked when at least `emerging_min_pair_posts` posts of the day use
       both, those posts are at least `emerging_min_overlap` of the rarer one's posts (overlap
       coefficient) and at least `emerging_min_jaccard` of the posts using either (Jaccard), so that a
       term common to many stories does not chain them together. Posts here are original posts, not
       reposts: one post reposted many times puts all its words in "many posts", which is one voice
       spreading (`coordinated_clusters`, the network marts), not a story several people tell;
    3. clusters: the connected components of the links with at least two terms (single linkage; a
       recursive walk over a graph of a few dozen nodes a day).

    One row per (date, story, term); `term_rank` 1 is the story's lead term: the strongest spike (a
    new word before a common word that rose with it), then the most used. `story_id` is derived from the date and the sorted terms, so it is
    the same whenever the same data is built. Posts per term come from `int_emerging_post_terms`.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(content=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

with recursive

candidates as (

    select activity_date, term, term_type, spike_score
    from {{ ref('trending_terms') }}
    where is_trending
    {{ affected_dates_only('activity_date', keyword='and', content=true) }}
    qualify row_number() over (
        partition by activity_date order by spike_score desc, post_count desc, term, term_type
    ) <= {{ var('emerging_max_terms', 150) }}

),

occurrences as (

    select
        o.activity_date, o.post_uid, o.is_repost, c.term, c.term_type, c.term_type || ':' || c.term as node
    from {{ ref('int_emerging_post_terms') }} as o
    inner join candidates as c
        on c.activity_date = o.activity_date and c.term = o.term and c.term_type = o.term_type

),

term_posts as (

    select
        activity_date,
        node,
        any_value(term) as term,
        any_value(term_type) as term_type,
        count(*) as post_count,
        count(*) filter (where not is_repost) as original_posts
    from occurrences
    group by activity_date, node

),

pairs as (

    select a.activity_date, a.node as node_a, b.node as node_b, count(*) as both_posts
    from occurrences as a
    inner join occurrences as b
        on b.activity_date = a.activity_date and b.post_uid = a.post_uid and b.node > a.node
    where not a.is_repost
    group by all

),

links as (

    select p.activity_date, p.node_a, p.node_b
    from pairs as p
    inner join term_posts as ta on ta.activity_date = p.activity_date and ta.node = p.node_a
    inner join term_posts as tb on tb.activity_date = p.activity_date and tb.node = p.node_b
    where p.both_posts >= {{ var('emerging_min_pair_posts', 3) }}
        and p.both_posts
            >= {{ var('emerging_min_overlap', 0.5) }} * least(ta.original_posts, tb.original_posts)
        and p.both_posts >= {{ var('emerging_min_jaccard', 0.1) }}
            * (ta.original_posts + tb.original_posts - p.both_posts)

),

directed as (

    select activity_date, node_a as source, node_b as target from links
    union all
    select activity_date, node_b, node_a from links

),

-- Every node with every node it reaches (UNION: a pair is visited once, so the walk ends).
reach(activity_date, node, reached) as (

    select distinct activity_date, source, source from directed
    union
    select r.activity_date, r.node, d.target
    from reach as r
    inner join directed as d
        on d.activity_date = r.activity_date and d.source = r.reached

),

components as (

    select activity_date, node, min(reached) as component
    from reach
    group by activity_date, node

),

stories as (

    select
        activity_date,
        component,
        substr(md5(activity_date::varchar || '|' || string_agg(node, '|' order by node)), 1, 16) as story_id,
        count(*) as term_count
    from components
    group by activity_date, component

),

final as (

    select
        s.activity_date,
        s.story_id,
        t.term,
        t.term_type,
        t.post_count,
        t.original_posts,
        c.spike_score,
        row_number() over (
            partition by s.activity_date, s.story_id
            order by c.spike_score desc, t.original_posts desc, t.post_count desc, t.term_type, t.term
        ) as term_rank
    from stories as s
    inner join components as m
        on m.activity_date = s.activity_date and m.component = s.component
    inner join term_posts as t
        on t.activity_date = m.activity_date and t.node = m.node
    inner join candidates as c
        on c.activity_date = t.activity_date and c.term = t.term and c.term_type = t.term_type

)

select activity_date, story_id, term, term_type, post_count, original_posts, spike_score, term_rank from final

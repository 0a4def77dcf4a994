{#-
    The family of every text (`int_texts`): the smallest `text_hash` reachable from it over the
    undirected links of `int_text_links` within `coordination_propagation_rounds` rounds of min-label
    propagation, i.e. the smallest in the ball of that radius around it (see `int_posts_clustered`).

    On an incremental night only the texts of `int_texts_regrouped` (A) can change family. Their rows
    are copied into `int_text_families_removed` (their old families) and deleted; their families are
    computed again by the same propagation on the texts within `coordination_propagation_rounds`
    links of A and the links among them: every path of that length from a text of A stays inside, so
    the result is exact for A (texts farther out may get wrong labels; they are not kept).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ save_rows('int_text_families_removed', 'text_hash in (select text_hash from ' ~ ref('int_texts_regrouped') ~ ')', 'text_hash uhugeint, family uhugeint') }}",
        "{{ delete_rows('text_hash in (select text_hash from ' ~ ref('int_texts_regrouped') ~ ')') }}",
    ],
) }}
/* depends_on: {{ ref('int_texts_regrouped') }} */
/* depends_on: {{ ref('int_texts_changed') }} */

{%- set rounds = var('coordination_propagation_rounds', 4) %}

with

{%- if is_incremental() %}

regrouped as (

    select text_hash from {{ ref('int_texts_regrouped') }}
    where text_hash not in (select text_hash from {{ ref('int_texts_changed') }} where not present)

),

{{ link_balls('ball', 'select text_hash from regrouped', rounds, [ref('int_text_links')]) }}

nodes as (

    select text_hash from ball_{{ rounds }}

),

links as (

    select l.text_hash, l.head
    from {{ ref('int_text_links') }} as l
    inner join nodes as a
        on a.text_hash = l.text_hash
    inner join nodes as b
        on b.text_hash = l.head

),

{%- else %}

nodes as not materialized (

    select text_hash from {{ ref('int_texts') }}

),

links as not materialized (

    select text_hash, head from {{ ref('int_text_links') }}

),

{%- endif %}

{#- Every link both ways, and every text to itself: one round is then one join and one `min`, and
    each round reads the one before it once. Read again by every round rather than held in memory
    (`not materialized`): with each level referenced twice (the text's own label and its
    neighbours'), DuckDB kept every level of every round in memory, and a full build at 10M posts
    ran out of a 2 GB limit here. #}
edges as not materialized (

    select text_hash as a, head as b from links
    union all
    select head as a, text_hash as b from links
    union all
    select text_hash as a, text_hash as b from nodes

),

labels_0 as (

    select text_hash, text_hash as label from nodes

),

{%- for r in range(rounds) %}

labels_{{ r + 1 }} as (

    select e.a as text_hash, min(n.label) as label
    from edges as e
    inner join labels_{{ r }} as n
        on n.text_hash = e.b
    group by e.a

),

{%- endfor %}

final as (

    select l.text_hash, l.label as family
    from labels_{{ rounds }} as l
    {%- if is_incremental() %}
    inner join regrouped as a
        on a.text_hash = l.text_hash
    {%- endif %}

)

select * from final

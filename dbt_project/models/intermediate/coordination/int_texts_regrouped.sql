{#-
    The texts whose family an incremental night recomputes (A): the changed texts
    (`int_texts_changed`) and every text within `coordination_propagation_rounds` − 1 links of an
    endpoint of a changed link, over the links of before and after the night together.

    A text's family is the smallest `text_hash` within `coordination_propagation_rounds` links of it
    (`int_text_families`), so it can change only when a text appears in or leaves that ball (a
    changed text, or a link of it changes) or a link inside the ball changes, which puts the
    text within rounds − 1 links of that link's endpoints. Changed links are the pairs in the rows
    `int_text_links` deleted (`int_text_links_removed`) but not in the rows it wrote again, or the
    other way round (a superset of the pairs that really changed: the same pair may also stay linked
    through another band). Empty on a full build.
-#}

/* depends_on: {{ ref('int_texts_changed') }} */
/* depends_on: {{ ref('int_text_links') }} */

{%- set removed = ref('int_text_links').schema ~ '.int_text_links_removed' %}
{%- set touched = ref('int_text_links').schema ~ '.int_text_links_buckets' %}
{%- set radius = var('coordination_propagation_rounds', 4) - 1 %}

{%- if incremental_night() %}

with

inserted as (

    -- the rows int_text_links wrote tonight (text_links_rewritten(), macros/coordination.sql)
    select l.text_hash, l.head
    from {{ ref('int_text_links') }} as l
    inner join {{ touched }} as t
        on t.band = l.band and t.bucket = l.bucket
    where t.rebuilt or l.text_hash in (select text_hash from {{ ref('int_texts_changed') }})

),

removed as (

    select text_hash, head from {{ removed }}

),

changed as (

    (select text_hash, head from removed except select text_hash, head from inserted)
    union
    (select text_hash, head from inserted except select text_hash, head from removed)

),

{{ link_balls('near', 'select text_hash from changed union select head from changed', radius, [ref('int_text_links'), removed]) }}

final as (

    select text_hash from near_{{ radius }}
    union
    select text_hash from {{ ref('int_texts_changed') }}

)

select text_hash from final

{%- else %}

select null::uhugeint as text_hash where false

{%- endif %}

{#-
    Coordination clustering, kept incrementally (models/intermediate/coordination, docs/incremental.md).

    Each model of the chain texts -> buckets -> links -> families -> clusters deletes on an incremental
    night the rows the night may change and inserts them again. The rows it deletes are first copied
    into a side table of the same schema (`<model>_removed`, or `int_posts_clustered_previous`), made
    by its pre-hook: the next model reads them to know what the night took away. On a full build
    the side tables are made empty, so they always exist after their model's hooks (a table made by a
    hook is not in dbt's relation cache: models name them directly, not through `ref`).
-#}


{#- A side table of this model's schema: `schema.name`. -#}
{% macro coordination_side_table(name) -%}
    {{ this.schema }}.{{ name }}
{%- endmacro %}


{#- Pre-hook: copy the rows of this model matching `predicate` into the side table `name`, whose
    columns are `columns` ("name type, ..."; the model's columns of those names). Empty on a full
    build. -#}
{% macro save_rows(name, predicate, columns) -%}
    {%- set names = [] -%}
    {%- for c in columns.split(',') -%}
        {%- do names.append(c.strip().split(' ')[0]) -%}
    {%- endfor -%}
    {%- if is_incremental() %}
    create or replace table {{ coordination_side_table(name) }} as
    select {{ names | join(', ') }} from {{ this }} where {{ predicate }}
    {%- else %}
    create or replace table {{ coordination_side_table(name) }} ({{ columns }})
    {%- endif %}
{%- endmacro %}


{#- Pre-hook: delete this model's rows matching `predicate` (nothing on a full build). -#}
{% macro delete_rows(predicate) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ predicate }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- The MinHash band buckets of the texts of `relation` (columns text_hash, minhash): one row per
    text and band, `bucket` a hash of the band's slots and the band number. -#}
{% macro text_buckets(relation) -%}
    {%- set rows_per_band = var('coordination_minhash_rows', 4) -%}
    select
        text_hash,
        band,
        hash(minhash[band * {{ rows_per_band }} + 1:(band + 1) * {{ rows_per_band }}], band) as bucket
    from {{ relation }}, range({{ var('coordination_minhash_bands', 8) }}) as b(band)
{%- endmacro %}


{#- The nodes one link away from the nodes of `reached` (a CTE with column text_hash), over the
    link tables of `relations` (columns text_hash, head), both directions. -#}
{% macro link_neighbours(reached, relations) -%}
    {%- for rel in relations %}
    select l.head as text_hash from {{ rel }} as l inner join {{ reached }} as r on r.text_hash = l.text_hash
    union all
    select l.text_hash from {{ rel }} as l inner join {{ reached }} as r on r.text_hash = l.head
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- CTEs `<prefix>_0` .. `<prefix>_<radius>`: the nodes within that many links of `start` (a query
    with column text_hash) over `relations`. Ends with a comma. -#}
{% macro link_balls(prefix, start, radius, relations) -%}
{{ prefix }}_0 as (

    select distinct text_hash from ({{ start }})

),
{%- for k in range(radius) %}

{{ prefix }}_{{ k + 1 }} as (

    select text_hash from {{ prefix }}_{{ k }}
    union
    select text_hash from ({{ link_neighbours(prefix ~ '_' ~ k, relations) }}
    )

),
{%- endfor %}
{%- endmacro %}


{#- Pre-hook: the side table `name` holding the rows of `query` (empty, with `columns`, on a full
    build). -#}
{% macro save_query(name, query, columns) -%}
    {%- if is_incremental() -%}
        create or replace table {{ coordination_side_table(name) }} as {{ query }}
    {%- else -%}
        create or replace table {{ coordination_side_table(name) }} ({{ columns }})
    {%- endif -%}
{%- endmacro %}


{#- The buckets whose links an incremental night revisits (`int_text_links`): those of the bucket rows
    `int_text_buckets` deleted and of the ones it inserted. `rebuilt`: the bucket's head changed, or
    it went from one text to several or back, so all its links are recomputed; otherwise only the
    links of the changed texts are (the others and their head are the same texts as before). -#}
{% macro touched_buckets() -%}
    {%- set changed = ref('int_texts_changed') -%}
    {%- set removed = ref('int_text_buckets').schema ~ '.int_text_buckets_removed' -%}
    with

    inserted as (
        {{ text_buckets('(select text_hash, minhash from ' ~ changed ~ ' where present)') }}
    ),

    touched as (
        select band, bucket from {{ removed }}
        union
        select band, bucket from inserted
    ),

    current_members as (
        select b.band, b.bucket, b.text_hash
        from {{ ref('int_text_buckets') }} as b
        inner join touched as t
            on t.band = b.band and t.bucket = b.bucket
    ),

    -- before tonight: the unchanged texts' rows as they are, the changed texts' as they were
    old_members as (
        select band, bucket, text_hash from current_members
        where text_hash not in (select text_hash from {{ changed }})
        union all
        select band, bucket, text_hash from {{ removed }}
    ),

    new_state as (
        select band, bucket, min(text_hash) as head, count(*) as n from current_members group by band, bucket
    ),

    old_state as (
        select band, bucket, min(text_hash) as head, count(*) as n from old_members group by band, bucket
    )

    select
        t.band,
        t.bucket,
        not coalesce(o.n > 1 and n.n > 1 and o.head = n.head, false) as rebuilt
    from touched as t
    left join old_state as o
        on o.band = t.band and o.bucket = t.bucket
    left join new_state as n
        on n.band = t.band and n.bucket = t.bucket
{%- endmacro %}


{#- The rows of `int_text_links` an incremental night rewrites: every row of a rebuilt bucket and
    every row of a changed text (all in touched buckets). -#}
{% macro text_links_rewritten() -%}
    (band, bucket) in (
        select band, bucket from {{ coordination_side_table('int_text_links_buckets') }} where rebuilt
    )
    or text_hash in (select text_hash from {{ ref('int_texts_changed') }})
{%- endmacro %}

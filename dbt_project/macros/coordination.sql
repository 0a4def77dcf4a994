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


{#- The buckets whose links an incremental night recomputes (`int_text_links`): those of the bucket
    rows `int_text_buckets` deleted and of the ones it inserted. -#}
{% macro touched_buckets() -%}
    select band, bucket from {{ ref('int_text_buckets').schema }}.int_text_buckets_removed
    union
    select band, bucket from (
        {{ text_buckets('(select text_hash, minhash from ' ~ ref('int_texts_changed') ~ ' where present)') }}
    )
{%- endmacro %}

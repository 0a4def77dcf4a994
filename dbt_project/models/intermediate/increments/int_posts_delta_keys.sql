{#-
    The posts whose lake rows changed since the build warehouse was last built: every post of a batch
    in `delta_batches` (new or re-mapped) and every post whose row came from a batch in `gone_batches`
    (rejected or re-mapped). Empty on a full build, which reads everything anyway.
-#}

/* depends_on: {{ source('lake', 'posts') }} */

{%- set previous_posts = previous_relation('marts', 'posts') %}

{%- if incremental_night() %}

with

lake as (

    select post_uid from {{ lake_relation('lake', 'posts', lake_post_columns()) }}
    where batch_id in ({{ batch_list('delta_batches') }})

),

gone as (

    {%- if previous_posts is not none %}
    select post_uid from {{ previous_posts }} where batch_id in ({{ batch_list('gone_batches') }})
    {%- else %}
    select null::varchar as post_uid where false
    {%- endif %}

)

select distinct cast(post_uid as varchar) as post_uid from (select * from lake union all select * from gone)

{%- else %}

select null::varchar as post_uid where false

{%- endif %}

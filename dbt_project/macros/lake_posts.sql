{#-
    The lake's posts as the models read them: typed, and deduplicated across batches (when the same
    post_uid arrives in several exports, the copy with the newest ingested_at wins; ties: the greatest
    batch_id, so the choice is deterministic). Within a batch the lake writer already removed
    duplicates.

    Lake files written before a column was added to ingest.schema lack it. read_parquet's
    union_by_name gives such files nulls as long as one file has the column; the union by name with an
    empty relation of every lake column covers a lake of old files only. So an old file reads with
    null target keys and an empty mention_keys.
-#}

{% macro lake_posts_current(relation, where=none) -%}
    {%- set columns = lake_post_columns() -%}
    select *
    from (
        select
            cast(post_uid as varchar) as post_uid,
            cast(platform as varchar) as platform,
            cast(post_id as varchar) as post_id,
            cast(created_at as timestamptz) as created_at,
            cast(created_date as date) as created_date,
            cast(author_key as varchar) as author_key,
            cast(author_handle as varchar) as author_handle,
            cast(text as varchar) as text,
            nullif(trim(cast(lang_declared as varchar)), '') as lang_declared,
            cast(kind as varchar) as kind,
            cast(reply_to_id as varchar) as reply_to_id,
            cast(thread_id as varchar) as thread_id,
            cast(repost_of_id as varchar) as repost_of_id,
            cast(quote_of_id as varchar) as quote_of_id,
            cast(reply_to_author_key as varchar) as reply_to_author_key,
            cast(repost_of_author_key as varchar) as repost_of_author_key,
            cast(quote_of_author_key as varchar) as quote_of_author_key,
            coalesce(
                cast(mention_keys as struct(author_key varchar, by_handle boolean)[]),
                cast([] as struct(author_key varchar, by_handle boolean)[])
            ) as mention_keys,
            cast(url as varchar) as url,
            cast(like_count as bigint) as like_count,
            cast(share_count as bigint) as share_count,
            cast(reply_count as bigint) as reply_count,
            cast(view_count as bigint) as view_count,
            coalesce(cast(hashtags as varchar[]), []) as hashtags,
            coalesce(cast(mentions as varchar[]), []) as mentions,
            coalesce(cast(links as varchar[]), []) as links,
            cast(media_count as integer) as media_count,
            cast(raw as varchar) as raw,
            cast(source_file as varchar) as source_file,
            cast(source_record as bigint) as source_record,
            cast(export_format as varchar) as export_format,
            cast(batch_id as varchar) as batch_id,
            cast(ingested_at as timestamptz) as ingested_at
        from (
            select * from {{ relation }}
            union all by name
            select
            {%- for name, type in columns.items() %}
                cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
            where false
        )
        {%- if where %}
        where {{ where }}
        {%- endif %}
    )
    qualify row_number() over (partition by post_uid order by ingested_at desc, batch_id desc) = 1
{%- endmacro %}


{#- The current rows (as `lake_posts_current`) of the posts whose uid is in `keys_relation`, without
    reading the whole lake: a first pass reads only `post_uid` to find the files that hold a copy of one
    of them (every copy, so the deduplication sees them all), and the rows are then read from those
    files alone. A night's keys are a small share of the lake, and their copies sit in few files. -#}
{% macro lake_posts_of(keys_relation) -%}
    {%- set files = [] -%}
    {%- set glob = lake_glob('lake', 'posts') if execute else '' -%}
    {%- if execute and lake_has_files(glob) -%}
        {%- set found = run_query(
            "select distinct filename from read_parquet('" ~ glob | replace("'", "''")
            ~ "', filename = true, union_by_name = true) where post_uid in (select post_uid from "
            ~ keys_relation ~ ") order by filename") -%}
        {%- set files = found.columns[0].values() -%}
    {%- endif -%}
    {%- if files | length == 0 -%}
        {{ lake_posts_current(
            "(select * from (select 1 as x) where false)", where="false") }}
    {%- else -%}
        {%- set listed -%}
            [{%- for f in files -%}'{{ f | replace("'", "''") }}'{{ "," if not loop.last }}{%- endfor -%}]
        {%- endset -%}
        {{ lake_posts_current(
            "read_parquet(" ~ listed ~ ", hive_partitioning = true, union_by_name = true, "
            ~ "hive_types = {'created_date': date, 'platform': varchar})",
            where="post_uid in (select post_uid from " ~ keys_relation ~ ")") }}
    {%- endif -%}
{%- endmacro %}

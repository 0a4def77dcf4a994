{#-
    Canonical posts, typed and deduplicated across batches: when the same post_uid arrives in several
    exports, the copy with the newest ingested_at wins (ties: the greatest batch_id, so the choice is
    deterministic). Within a batch the lake writer already removed duplicates.

    Lake files written before a column was added to ingest.schema lack it. read_parquet's
    union_by_name gives such files nulls as long as one file has the column; `padded` covers a lake of
    old files only, by a union by name with an empty relation of every lake column. So an old file
    reads with null target keys and an empty mention_keys.
-#}

with

source as (

    select * from {{ lake_relation('lake', 'posts', lake_post_columns()) }}

),

padded as (

    select * from source
    union all by name
    select
    {%- for name, type in lake_post_columns().items() %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
    where false

),

typed as (

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
    from padded

),

deduplicated as (

    select *
    from typed
    qualify row_number() over (
        partition by post_uid
        order by ingested_at desc, batch_id desc
    ) = 1

)

select * from deduplicated

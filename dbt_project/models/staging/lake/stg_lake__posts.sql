{#-
    Canonical posts, typed and deduplicated across batches: when the same post_uid arrives in several
    exports, the copy with the newest ingested_at wins (ties: the greatest batch_id, so the choice is
    deterministic). Within a batch the lake writer already removed duplicates.
-#}

with

source as (

    select * from {{ lake_relation('lake', 'posts', lake_post_columns()) }}

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
    from source

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

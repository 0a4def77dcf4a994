{#- One row per ingested batch, from the lake's manifest files. -#}

with

source as (

    select * from {{ lake_relation('lake', 'manifest', lake_manifest_columns()) }}

),

typed as (

    select
        cast(batch_id as varchar) as batch_id,
        cast(platform as varchar) as platform,
        cast(export_format as varchar) as export_format,
        cast(source_file as varchar) as source_file,
        cast(source_path as varchar) as source_path,
        cast(source_member as varchar) as source_member,
        cast(source_size as bigint) as source_size_bytes,
        cast(compression as varchar) as compression,
        cast(records_in as bigint) as records_in,
        cast(loaded as bigint) as loaded,
        cast(quarantined as bigint) as quarantined,
        cast(duplicates_within_batch as bigint) as duplicates_within_batch,
        cast(skipped as json) as skipped,
        cast(skipped_total as bigint) as skipped_total,
        cast(ingested_at as timestamptz) as ingested_at,
        cast(seconds as double) as ingest_seconds,
        cast(pseudonymised as boolean) as is_pseudonymised
    from source

)

select * from typed

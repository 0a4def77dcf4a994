{#- Quarantined records: what could not be mapped, where it came from, and why. -#}

with

source as (

    select * from {{ lake_relation('lake', 'quarantine', lake_quarantine_columns()) }}

),

typed as (

    select
        cast(batch_id as varchar) as batch_id,
        cast(platform as varchar) as platform,
        cast(export_format as varchar) as export_format,
        cast(source_file as varchar) as source_file,
        cast(source_record as bigint) as source_record,
        cast(error as varchar) as error,
        cast(raw as varchar) as raw,
        cast(ingested_at as timestamptz) as ingested_at
    from source

)

select * from typed

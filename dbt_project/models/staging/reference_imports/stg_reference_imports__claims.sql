{#- Imported fact-checked claims (`discourse claims import`), typed; empty when nothing was imported. -#}

with

source as (

    select * from {{ lake_relation('reference_imports', 'claims_extra', {
        'claim_id': 'varchar', 'claim_text': 'varchar', 'verdict': 'varchar', 'language': 'varchar',
        'source_name': 'varchar', 'source_url': 'varchar', 'published_date': 'date'
    }) }}

),

typed as (

    select
        cast(claim_id as varchar) as claim_id,
        cast(claim_text as varchar) as claim_text,
        cast(verdict as varchar) as verdict,
        cast(language as varchar) as language,
        cast(source_name as varchar) as source_name,
        cast(source_url as varchar) as source_url,
        cast(published_date as date) as published_date
    from source

)

select * from typed

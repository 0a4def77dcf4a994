{#- Imported domain credibility ratings (`discourse domains import`), typed, domains lower-case. -#}

with

source as (

    select * from {{ lake_relation('reference_imports', 'domains_extra', {
        'domain': 'varchar', 'rating': 'double', 'label': 'varchar', 'source': 'varchar'
    }) }}

),

typed as (

    select
        lower(cast(domain as varchar)) as domain,
        cast(rating as double) as rating,
        cast(label as varchar) as label,
        cast(source as varchar) as source
    from source

)

select * from typed

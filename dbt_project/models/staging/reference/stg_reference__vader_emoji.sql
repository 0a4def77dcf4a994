{#- VADER's emoji descriptions, with variation selectors stripped the way the tokeniser strips them. -#}

with

source as (

    select * from {{ source('reference', 'vader_emoji') }}

),

final as (

    select
        replace(emoji, chr(65039), '') as emoji,
        lower(description) as description
    from source
    where emoji is not null and description is not null
    qualify row_number() over (partition by replace(emoji, chr(65039), '') order by description) = 1

)

select * from final

{#-
    Low-credibility sites ranked by how much they were shared: the sites of `domains` rated below
    `low_credibility_rating` (credibility_level 'low'), most posts first, then most distinct authors,
    then the site's name (a stable order). Shared hosts (blogspot.com, ...) count per host, as in
    `domains`.

    A plain table computed from domains each night.
-#}

with

domains as (

    select * from {{ ref('domains') }}

),

low as (

    select * from domains
    where credibility_level = 'low'

),

final as (

    select
        row_number() over (order by posts desc, distinct_authors desc, domain) as risk_rank,
        domain,
        registered_domain,
        credibility_rating,
        rating_label,
        rating_source,
        posts,
        distinct_authors,
        high_risk_posts,
        round(high_risk_posts / posts, 4)::double as high_risk_share,
        is_shortener,
        first_seen_at,
        last_seen_at
    from low

)

select * from final

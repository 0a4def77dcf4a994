{#-
    One row per (post, distinct link): host, registered domain, short-link flag and credibility rating.

    The registered domain is the host's last two labels, or three when the last two form a two-level
    public suffix (seed `domain_suffixes`: co.id, go.id, ac.id, co.uk, com.au, ...), after dropping
    the scheme, user info, port, path and a leading "www."/"m."/"amp." label. IP addresses stay whole.
    The rating is the most specific row of the ratings: the exact host, else the registered
    domain, else the longest matching `*.<suffix>` pattern. Ratings are the seed `domain_ratings`
    plus imported lists (`stg_reference_imports__domain_ratings`, written by `discourse domains
    import`; empty when nothing was imported). The seed wins for a domain it rates (it is reviewed
    with the project, imports are bulk lists); imported lists fill in the rest, and when several
    imported lists rate the same domain the lowest rating counts (any list that doubts a site is
    heard).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */
/* depends_on: {{ ref('int_posts_delta_keys') }} */

with

posts as (

    select post_uid, links from {{ posts_to_enrich() }}

),

suffixes as (

    select lower(suffix) as suffix from {{ ref('domain_suffixes') }}

),

shorteners as (

    select lower(domain) as domain from {{ ref('link_shorteners') }}

),

seed_ratings as (

    select lower(domain) as domain, rating, label, source from {{ ref('domain_ratings') }}

),

imported_ratings as (

    select domain, rating, label, source
    from {{ ref('stg_reference_imports__domain_ratings') }}
    where domain is not null and rating between 0 and 1

),

ratings as (

    select domain, rating, label, source from seed_ratings
    union all
    select domain, rating, label, source
    from imported_ratings
    where domain not in (select domain from seed_ratings)
    qualify row_number() over (partition by domain order by rating, source) = 1

),

links as (

    select distinct
        post_uid,
        trim(link) as link
    from (select post_uid, unnest(links) as link from posts)
    where link is not null and trim(link) <> ''

),

hosts as (

    select
        post_uid,
        link,
        regexp_replace(
            rtrim(
                lower(regexp_extract(
                    link, '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?([^/?#:\s]+)', 1
                )),
                '.'
            ),
            '^(?:www\d*|m|mobile|amp)\.', ''
        ) as host
    from links

),

split as (

    select
        post_uid,
        link,
        host,
        string_split(host, '.') as labels,
        regexp_matches(host, '^\d{1,3}(?:\.\d{1,3}){3}$') as is_ip
    from hosts
    where host <> ''

),

registered as (

    select
        s.post_uid,
        s.link,
        s.host,
        case
            when s.is_ip or len(s.labels) < 2 then s.host
            when len(s.labels) >= 3 and x.suffix is not null
                then array_to_string(s.labels[-3:], '.')
            else array_to_string(s.labels[-2:], '.')
        end as registered_domain
    from split as s
    left join suffixes as x
        on x.suffix = array_to_string(s.labels[-2:], '.')

),

rating_candidates as (

    select r.post_uid, r.link, d.domain, d.rating, d.label, d.source, 3 as specificity
    from registered as r
    inner join ratings as d
        on d.domain = r.host

    union all

    select r.post_uid, r.link, d.domain, d.rating, d.label, d.source, 2 as specificity
    from registered as r
    inner join ratings as d
        on d.domain = r.registered_domain

    union all

    select r.post_uid, r.link, d.domain, d.rating, d.label, d.source, 1 as specificity
    from registered as r
    inner join ratings as d
        on d.domain like '*.%'
        and ('.' || r.registered_domain) like '%' || substr(d.domain, 2)

),

best_rating as (

    select *
    from rating_candidates
    qualify row_number() over (
        partition by post_uid, link
        order by specificity desc, length(domain) desc
    ) = 1

),

final as (

    select
        r.post_uid,
        r.link,
        r.host,
        r.registered_domain,
        (r.registered_domain in (select domain from shorteners)
            or r.host in (select domain from shorteners)) as is_short_link,
        b.domain as rated_domain,
        b.rating as domain_rating,
        b.label as domain_label,
        b.source as rating_source
    from registered as r
    left join best_rating as b
        on b.post_uid = r.post_uid and b.link = r.link

)

select * from final

{#-
    The most engaging authors: the `top_authors_size` authors (var, default 1000) with the most
    engagement (likes + shares + replies), ranked. Pseudonymised `author_key` only, never a handle.
    Ties go to more posts, then to author_key, so the ranking is stable from build to build.

    A plain table computed from authors each night.
-#}

with

authors as (

    select * from {{ ref('authors') }}

),

ranked as (

    select
        row_number() over (order by engagement desc, posts desc, author_key) as engagement_rank,
        author_key,
        platforms,
        posts,
        engagement,
        likes,
        shares,
        replies,
        round(engagement / posts, 2)::double as engagement_per_post,
        mean_sentiment_score,
        mean_risk_score,
        high_risk_posts,
        clusters_joined,
        first_seen_at,
        last_seen_at
    from authors

),

final as (

    select * from ranked
    where engagement_rank <= {{ var('top_authors_size', 1000) }}

)

select * from final

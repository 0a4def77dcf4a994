-- The most engaging authors (pseudonymised author_key, never a handle) with their posts and risk.
-- Reads marts.top_authors (ranked by likes + shares + replies).
select
    engagement_rank,
    author_key,
    platforms,
    posts,
    engagement,
    engagement_per_post,
    mean_sentiment_score,
    high_risk_posts,
    clusters_joined
from marts.top_authors
order by engagement_rank

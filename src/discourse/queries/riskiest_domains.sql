-- Low-credibility sites ranked by how often they were shared, with their rating and its source.
-- Reads marts.riskiest_domains.
select
    risk_rank,
    domain,
    credibility_rating,
    rating_label,
    rating_source,
    posts,
    distinct_authors,
    high_risk_share,
    is_shortener
from marts.riskiest_domains
order by risk_rank

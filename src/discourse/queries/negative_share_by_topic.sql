-- Share of negative posts per topic and language over the whole period, most negative first.
-- Reads marts.negative_share_daily (date x topic x language over all platforms); shares are
-- post-weighted. Narrow it with a where on activity_date or lang.
select
    topic_label_en,
    topic_label_id,
    lang,
    sum(posts) as posts,
    round(sum(negative_share * posts) / sum(posts), 4) as negative_share,
    round(sum(positive_share * posts) / sum(posts), 4) as positive_share
from marts.negative_share_daily
group by topic_id, topic_label_en, topic_label_id, lang
having sum(posts) >= 10
order by negative_share desc, posts desc, topic_label_en, lang

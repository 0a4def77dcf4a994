-- Weekly volume and share of voice per topic, with English and Indonesian labels.
-- Reads marts.topics_over_time (period = 'week'; use 'day' for daily figures).
select
    period_start_date as week_start,
    topic_label_en,
    topic_label_id,
    volume,
    share_of_voice,
    engagement,
    mean_sentiment_score,
    has_spike
from marts.topics_over_time
where period = 'week' and volume > 0
order by week_start, volume desc, topic_label_en

-- Emotion mix per topic over the whole period: the share of each emotion label and the dominant one.
-- dominant_emotion is the commonest non-neutral label (NULL when every post is neutral).
-- Reads marts.emotion_daily (post-weighted over dates, platforms and languages) and marts.topics.
with

by_topic as (

    select
        topic_id,
        sum(posts) as posts,
        round(sum(anger_share * posts) / sum(posts), 4) as anger_share,
        round(sum(fear_share * posts) / sum(posts), 4) as fear_share,
        round(sum(joy_share * posts) / sum(posts), 4) as joy_share,
        round(sum(sadness_share * posts) / sum(posts), 4) as sadness_share,
        round(sum(love_share * posts) / sum(posts), 4) as love_share,
        round(sum(surprise_share * posts) / sum(posts), 4) as surprise_share,
        round(sum(neutral_share * posts) / sum(posts), 4) as neutral_share
    from marts.emotion_daily
    group by topic_id

)

select
    t.label_en as topic_label_en,
    t.label_id as topic_label_id,
    b.posts,
    b.anger_share,
    b.fear_share,
    b.joy_share,
    b.sadness_share,
    b.love_share,
    b.surprise_share,
    b.neutral_share,
    case when b.neutral_share < 1 then ['anger', 'fear', 'joy', 'sadness', 'love', 'surprise'][
        list_position(
            [b.anger_share, b.fear_share, b.joy_share, b.sadness_share, b.love_share, b.surprise_share],
            greatest(b.anger_share, b.fear_share, b.joy_share, b.sadness_share, b.love_share, b.surprise_share)
        )
    ] end as dominant_emotion
from by_topic as b
left join marts.topics as t
    on t.topic_id = b.topic_id
order by b.posts desc, topic_label_en

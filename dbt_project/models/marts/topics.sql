{#- The topic taxonomy analysts join posts.primary_topic / posts.topics to. -#}

with

taxonomy as (

    select * from {{ ref('topic_taxonomy') }}

),

keyword_counts as (

    select topic_id, count(*) as keyword_count
    from {{ ref('topic_keywords') }}
    group by topic_id

),

final as (

    select
        t.topic_id,
        t.label_id,
        t.label_en,
        t.description,
        coalesce(k.keyword_count, 0) as keyword_count
    from taxonomy as t
    left join keyword_counts as k
        on k.topic_id = t.topic_id

)

select * from final

{#-
    Emoji valences the way VADER derives them: each emoji stands for its English description, whose
    words are scored with VADER's lexicon ("loudly crying face" -> "crying" -2.1). Emoji whose
    description carries no sentiment are left out. Clamped to VADER's −4..4.
-#}

with

emoji as (

    select emoji, description from {{ ref('stg_reference__vader_emoji') }}

),

vader as (

    select term, weight from {{ ref('stg_reference__vader_lexicon') }}

),

description_words as (

    select
        emoji,
        description,
        unnest(string_split(regexp_replace(description, '[^a-z'' ]', ' ', 'g'), ' ')) as word
    from emoji

),

scored as (

    select
        d.emoji,
        d.description,
        sum(v.weight) as weight
    from description_words as d
    inner join vader as v
        on v.term = d.word
    group by d.emoji, d.description

),

final as (

    select
        emoji,
        description,
        greatest(-4.0, least(4.0, round(weight, 3))) as weight
    from scored
    where weight <> 0

)

select * from final

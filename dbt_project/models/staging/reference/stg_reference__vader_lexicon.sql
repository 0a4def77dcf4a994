{#-
    VADER's lexicon keyed the way the tokeniser emits tokens: lower-case, straight apostrophes. A few
    emoticons differ only by case (":D" and ":d"); their weights are averaged.
-#}

with

source as (

    select * from {{ source('reference', 'vader_lexicon') }}

),

normalised as (

    select
        replace(lower(term), '’', '''') as term,
        weight
    from source
    where term is not null and weight is not null

),

final as (

    select
        term,
        round(avg(weight), 3) as weight
    from normalised
    group by term

)

select * from final

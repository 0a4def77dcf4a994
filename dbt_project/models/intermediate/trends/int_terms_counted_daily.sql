{#-
    Daily term frequencies: for every UTC date and term, the number of distinct posts using it.

    * `term`: a word token (normal form, `int_posts_tokenised`) of at least 3 letters that is not a
      stopword (`int_stopwords`: Indonesian and English lists of the `stopwordsiso` package);
    * `bigram`: two adjacent word tokens, neither a stopword nor shorter than 2 letters;
    * `hashtag`: a hashtag, lower-cased, without '#'.

    Terms and bigrams come extracted per post (`int_post_terms`), so recounting a date is a count
    over lists, not a tokenisation. Reposts count: a term spreading through reposts is trending too.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(direct=true, content=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

with

posts as (

    select post_uid, created_date, hashtags from {{ ref('posts') }}
    {{ affected_dates_only('created_date', direct=true, content=true) }}

),

post_terms as (

    select p.created_date, t.terms, t.bigrams
    from {{ ref('int_post_terms') }} as t
    inner join posts as p
        on p.post_uid = t.post_uid

),

all_terms as (

    select created_date, unnest(terms) as term, 'term' as term_type from post_terms
    union all
    select created_date, unnest(bigrams) as term, 'bigram' as term_type from post_terms
    union all
    select created_date, unnest({{ hashtag_terms('hashtags') }}) as term, 'hashtag' as term_type from posts

),

final as (

    select
        created_date as activity_date,
        term,
        term_type,
        count(*) as post_count
    from all_terms
    group by all

)

select * from final

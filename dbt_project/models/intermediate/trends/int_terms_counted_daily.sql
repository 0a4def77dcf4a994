{#-
    Daily term frequencies: for every UTC date and term, the number of distinct posts using it.

    * `term`: a word token (normal form, `int_posts_tokenised`) of at least 3 letters that is not a
      stopword (`int_stopwords`: Indonesian and English lists of the `stopwordsiso` package);
    * `bigram`: two adjacent word tokens, neither a stopword nor shorter than 2 letters;
    * `hashtag`: a hashtag, lower-cased, without '#'.

    Reposts count: a term spreading through reposts is trending too.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_dates(direct=true) }}",
) }}
/* depends_on: {{ ref('int_affected_dates') }} */

with

posts as (

    select post_uid, created_date, hashtags from {{ ref('posts') }}
    {{ affected_dates_only('created_date', direct=true) }}

),

tokenised as (

    select post_uid, tokens from {{ ref('int_posts_tokenised') }}
    {%- if is_incremental() %}
    where post_uid in (select post_uid from posts)
    {%- endif %}

),

stopwords as (

    select distinct term from {{ ref('int_stopwords') }}

),

positions as (

    select
        t.post_uid,
        unnest(t.tokens) as token,
        generate_subscripts(t.tokens, 1) as pos
    from tokenised as t

),

words as (

    select
        p.post_uid,
        p.pos,
        p.token,
        regexp_matches(p.token, '^\p{L}') and length(p.token) >= 2
            and p.token not in (select term from stopwords) as is_content
    from positions as p

),

terms as (

    select distinct post_uid, token as term, 'term' as term_type
    from words
    where is_content and length(token) >= 3

),

bigrams as (

    select distinct a.post_uid, a.token || ' ' || b.token as term, 'bigram' as term_type
    from words as a
    inner join words as b
        on b.post_uid = a.post_uid and b.pos = a.pos + 1
    where a.is_content and b.is_content

),

hashtags as (

    select distinct post_uid, term, 'hashtag' as term_type
    from (
        select post_uid, lower(ltrim(trim(unnest(hashtags)), '#')) as term
        from posts
    )
    where term <> ''

),

all_terms as (

    select * from terms
    union all
    select * from bigrams
    union all
    select * from hashtags

),

final as (

    select
        p.created_date as activity_date,
        a.term,
        a.term_type,
        count(*) as post_count
    from all_terms as a
    inner join posts as p
        on p.post_uid = a.post_uid
    group by all

)

select * from final

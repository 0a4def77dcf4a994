{#-
    Each post's trend vocabulary, extracted once per post: the input of the daily term counts
    (`int_terms_counted_daily`) and of emerging-story clustering (`int_emerging_post_terms`).

    * `terms`: its distinct word tokens (normal form, `int_posts_tokenised`) of at least 3 letters that
      are content words (`content_word`: starting with a letter) and not stopwords (`int_stopwords`:
      Indonesian and English lists of the `stopwordsiso` package);
    * `bigrams`: its distinct pairs of adjacent tokens, both content words of 2+ letters and neither a
      stopword, as 'word word' (tokens hold no spaces).

    Both lists are sorted. Hashtags are not here: they come with the post's row (`posts.hashtags`).

    Incremental by post (macros/incremental.sql): a night extracts the terms of the affected posts
    only, so recounting an affected date or re-reading a story's baseline days never tokenises, nor
    tests stopwords, again. Built in parts past `dbt_part_posts` posts (macros/post_parts.sql).
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
    post_hook="{{ insert_post_parts() }}",
) }}
{#- built in parts past `dbt_part_posts` posts (macros/post_parts.sql) -#}
{%- set parts = post_part_count(ref('int_posts_tokenised')) -%}
/* depends_on: {{ ref('int_posts_affected') }} */

with

tokenised as (

    select post_uid, tokens from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only(parts=parts, content=true) }}

),

stopwords as (

    select distinct term from {{ ref('int_stopwords') }}

),

-- Deduplicated inside each post's list: no distinct over all rows, no self-join on positions.
distinct_tokens as (

    select post_uid, unnest(list_distinct(tokens)) as token from tokenised

),

pairs as (

    select
        post_uid,
        unnest(list_distinct(list_transform(range(1, len(tokens)), lambda i: [tokens[i], tokens[i + 1]])))
            as pair
    from tokenised

),

terms as (

    select post_uid, list(token order by token) as terms
    from distinct_tokens
    where {{ content_word('token') }} and length(token) >= 3
        and token not in (select term from stopwords)
    group by post_uid

),

bigrams as (

    select post_uid, list(pair[1] || ' ' || pair[2] order by pair[1], pair[2]) as bigrams
    from pairs
    where {{ content_word('pair[1]') }} and {{ content_word('pair[2]') }}
        and pair[1] not in (select term from stopwords)
        and pair[2] not in (select term from stopwords)
    group by post_uid

),

final as (

    select
        t.post_uid,
        coalesce(w.terms, []) as terms,
        coalesce(b.bigrams, []) as bigrams
    from tokenised as t
    left join terms as w
        on w.post_uid = t.post_uid
    left join bigrams as b
        on b.post_uid = t.post_uid

)

select * from final

{#-
    Fact-checked claims: the seed `fact_checked_claims` plus imported claims
    (`stg_reference_imports__claims`, empty when nothing was imported). An imported claim with a seed
    claim's id replaces it (an import is the newer, named source). `claim_trigrams` are the distinct
    character trigrams of each word of the claim in normal form, padded with a space on both sides,
    over the words that are not stopwords: what posts are matched on.
-#}

with

seed as (

    select claim_id, claim_text, verdict, language, source_name, source_url, published_date
    from {{ ref('fact_checked_claims') }}

),

imported as (

    select claim_id, claim_text, verdict, language, source_name, source_url, published_date
    from {{ ref('stg_reference_imports__claims') }}

),

stopwords as (

    select distinct term from {{ ref('int_stopwords') }}

),

unioned as (

    select *, 'import' as origin from imported
    union all
    select *, 'seed' as origin from seed
    where claim_id not in (select claim_id from imported)

),

words as (

    select claim_id, unnest({{ tokenise('claim_text') }}) as word
    from unioned

),

content_words as (

    select claim_id, word
    from words
    where regexp_matches(word, '^[\p{L}\p{N}]') and word not in (select term from stopwords)

),

trigrams as (

    select
        claim_id,
        list_distinct(flatten(list(
            list_transform(range(1, length(' ' || word || ' ') - 1), lambda i: substr(' ' || word || ' ', i, 3))
        ))) as claim_trigrams
    from content_words
    group by claim_id

),

final as (

    select
        u.claim_id,
        u.claim_text,
        u.verdict,
        u.language,
        u.source_name,
        u.source_url,
        u.published_date,
        u.origin,
        coalesce(t.claim_trigrams, []) as claim_trigrams
    from unioned as u
    left join trigrams as t
        on t.claim_id = u.claim_id

)

select * from final

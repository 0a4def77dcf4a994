{#-
    One row per post: its tokens in normal form (macros/text.sql), the cut-to-one-letter variants of
    elongated tokens, where SHOUTED words are, and the counts the scoring models need. Computed once and
    shared by language detection, sentiment, topics and misinformation cues.
-#}

with

posts as (

    select post_uid, text from {{ ref('stg_lake__posts') }}

),

stripped as (

    select
        post_uid,
        {{ strip_noise('text') }} as stripped
    from posts

),

prepared as (

    select
        post_uid,
        stripped,
        {{ fold_laughter('lower(stripped)') }} as lowered
    from stripped

),

normalised as (

    select
        post_uid,
        stripped,
        {{ cut_elongation('lowered', 2) }} as normal_text,
        -- Elongations are rare: only those posts get the second, cut-to-one form.
        case
            when regexp_matches(lowered, {{ elongation_pattern() }})
                then {{ collapse_elongation('lowered', 1) }}
        end as squeezed_text
    from prepared

),

tokenised as (

    select
        post_uid,
        stripped,
        regexp_extract_all(normal_text, {{ token_pattern() }}) as tokens,
        case
            when squeezed_text is not null
                then regexp_extract_all(squeezed_text, {{ token_pattern() }})
        end as squeezed_tokens,
        -- Original-case tokens, only where a run of capitals exists (for SHOUTING).
        case
            when regexp_matches(stripped, '\p{Lu}\p{Lu}')
                then regexp_extract_all(stripped, {{ token_pattern() }})
        end as cased_tokens
    from normalised

),

with_words as (

    select
        *,
        list_filter(tokens, lambda t: regexp_matches(t, '^\p{L}')) as words
    from tokenised

),

final as (

    select
        post_uid,
        tokens,
        case
            when squeezed_tokens is not null and len(squeezed_tokens) = len(tokens)
                then list_transform(
                    tokens,
                    lambda t, i: case when squeezed_tokens[i] <> t then squeezed_tokens[i] end
                )
        end as token_alts,
        case
            when cased_tokens is not null and len(cased_tokens) = len(tokens)
                then list_filter(
                    list_transform(
                        cased_tokens,
                        lambda t, i: case
                            when length(t) >= 2 and t = upper(t) and t <> lower(t) then i
                        end
                    ),
                    lambda i: i is not null
                )
            else []
        end as shouted_positions,
        len(tokens) as token_count,
        len(words) as word_count,
        -- letters in words (an inner apostrophe aside); capitals counted only where runs of them exist
        coalesce(list_sum(list_transform(words, lambda w: length(w))), 0) as letter_count,
        case
            when cased_tokens is not null
                then length(regexp_replace(array_to_string(cased_tokens, ''), '[^\p{Lu}]', '', 'g'))
            else 0
        end as upper_count,
        length(stripped) - length(replace(stripped, '!', '')) as exclamation_count,
        -- What fastText sees: the first 60 words (no URLs, mentions, emoji or digits).
        array_to_string(words[1:60], ' ') as lang_text
    from with_words

)

select * from final

{#-
    One row per post: its tokens in normal form (macros/text.sql), the cut-to-one-letter variants of
    elongated tokens, where SHOUTED words are, and the counts the scoring models need. Computed once and
    shared by language detection, sentiment, topics and misinformation cues.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */
/* depends_on: {{ ref('int_posts_delta_keys') }} */

with

posts as (

    select post_uid, text from {{ posts_to_enrich() }}

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
        -- clause punctuation (".", ",", ";", "!", "?" before a space or the end) becomes a marker token,
        -- chr(31) after a question, chr(30) otherwise, dropped from `tokens` below; neither occurs
        -- inside a token, so `tokens` is unchanged
        regexp_extract_all(
            regexp_replace(
                regexp_replace(normal_text, '[.,;!]*\?[.,;!?]*(?:\s+|$)', ' ' || chr(31) || ' ', 'g'),
                '[.,;!]+(?:\s+|$)', ' ' || chr(30) || ' ', 'g'
            ),
            {{ token_pattern() }} || '|[' || chr(30) || chr(31) || ']'
        ) as marked_tokens,
        case
            when squeezed_text is not null
                then regexp_extract_all(squeezed_text, {{ token_pattern() }})
        end as squeezed_tokens,
        -- Original-case tokens, only where a run of capitals exists (for SHOUTING).
        case
            when regexp_matches(stripped, '\p{Lu}\p{Lu}')
                then regexp_extract_all(stripped, {{ token_pattern() }})
        end as cased_tokens,
        -- Original-case tokens with the '#' of a hashtag kept, only in posts with a hashtag (the '#'
        -- is no token character, so these align with `tokens`).
        case
            when contains(stripped, '#')
                then regexp_extract_all(stripped, '#?(?:' || {{ token_pattern() }} || ')')
        end as hash_tokens
    from normalised

),

with_tokens as (

    -- Markers are the only tokens at or below chr(31): every real token starts with a letter, an
    -- emoticon character or a symbol.
    select
        *,
        list_filter(marked_tokens, lambda t: t > chr(31)) as tokens,
        -- the position of each real token among all tokens, markers included
        list_filter(
            list_transform(marked_tokens, lambda t, i: case when t > chr(31) then i end),
            lambda i: i is not null
        ) as token_positions,
        list_filter(marked_tokens, lambda t: t <= chr(31)) as markers
    from tokenised

),

with_words as (

    select
        *,
        -- words: tokens that start with a letter. Most tokens start with a Latin letter below U+0300
        -- (where combining marks begin) and are longer than one character: those are words unless
        -- they are emoticons (":)", ";D", "=)", "<3"), decided without a regular expression.
        list_filter(
            tokens,
            lambda t: case
                when length(t) > 1 and unicode(t) < 768 then t[1] not in (':', ';', '=', '<')
                else regexp_matches(t, '^\p{L}')
            end
        ) as words,
        -- the clause number of the i-th token: 1 + the markers before it (its position minus i)
        list_transform(token_positions, lambda p, i: 1 + p - i) as token_clauses,
        -- the clause numbers of the clauses that end with a question mark
        list_filter(
            list_transform(markers, lambda m, j: case when m = chr(31) then j end),
            lambda j: j is not null
        ) as question_clauses
    from with_tokens

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
        -- hashtags: the token's position and its words split at camelCase boundaries ("#NotHappy" ->
        -- 'not happy'; the token itself where the tag has no inner capital)
        case
            when hash_tokens is not null and len(hash_tokens) = len(tokens)
                then list_filter(
                    list_transform(
                        hash_tokens,
                        lambda t, i: case
                            when regexp_matches(t, '^#\p{L}') then {
                                'pos': i,
                                'words': lower(regexp_replace(
                                    regexp_replace(t[2:], '(\p{Ll})(\p{Lu})', '\1 \2', 'g'),
                                    '(\p{Lu})(\p{Lu}\p{Ll})', '\1 \2', 'g'
                                ))
                            }
                        end
                    ),
                    lambda h: h is not null
                )
            else []
        end as hashtags,
        -- the clause number of each token (1, 2, ...): a clause ends at clause punctuation
        token_clauses,
        question_clauses,
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

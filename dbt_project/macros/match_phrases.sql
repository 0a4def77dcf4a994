{#-
    Occurrences of phrases (one or more tokens, space-separated, in normal form) in tokenised posts.

    `tokens_relation` has (`key`, tokens), `key` being post_uid unless given (an integer key groups
    and joins faster than the post_uid string); `phrases_relation` has a `term` column. Returns
    (`key`, pos, term) for every position where a phrase starts. Only positions whose token begins
    some phrase are expanded into n-grams, so the cost stays close to one hash join over all tokens.
-#}
{% macro match_phrases(tokens_relation, phrases_relation, key='post_uid') -%}
(
    with

    phrase_terms as (

        select distinct term from {{ phrases_relation }} where term is not null and term <> ''

    ),

    phrase_heads as (

        select distinct
            split_part(term, ' ', 1) as head,
            len(string_split(term, ' ')) as n
        from phrase_terms

    ),

    positions as (

        select
            {{ key }},
            tokens,
            unnest(tokens) as token,
            generate_subscripts(tokens, 1) as pos
        from {{ tokens_relation }}
        where len(tokens) > 0

    ),

    candidates as (

        select
            p.{{ key }},
            p.pos,
            case
                when h.n = 1 then p.token
                else array_to_string(p.tokens[p.pos:p.pos + h.n - 1], ' ')
            end as gram
        from positions as p
        inner join phrase_heads as h
            on h.head = p.token

    )

    select distinct
        c.{{ key }},
        c.pos,
        c.gram as term
    from candidates as c
    inner join phrase_terms as t
        on t.term = c.gram
)
{%- endmacro %}

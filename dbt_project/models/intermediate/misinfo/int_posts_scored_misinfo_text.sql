{#-
    The trained text model's probability that a post's wording is that of a claim rated false
    (discourse.transform.misinfo_train, docs/misinformation.md). One row per post, and none at all
    without a trained model (`int_misinfo_text_model` empty).

    A post's terms are its distinct tokens in normal form (the `slang_normalisation` seed's standard
    form of the token, else of its cut-to-one-letter variant, else the token itself) and every pair of
    adjacent normal-form tokens joined by a space; the trainer computes them with the same SQL
    (`misinfo_train.TERMS_SQL`). probability = 1 / (1 + exp(−(bias + Σ weights of the post's terms
    in the model))). `misinfo_text_terms` are the post's three terms pushing most towards "false".
    `int_posts_scored_misinfo` turns a probability above var `misinfo_text_threshold` into a reason.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts(content=true) }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

with

tokenised as (

    select post_uid, tokens, token_alts from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only(content=true) }}

),

model as (

    select term, weight, source from {{ ref('int_misinfo_text_model') }}

),

slang as (

    select slang, standard from {{ ref('slang_normalisation') }}

),

model_terms as (

    select term, weight from model where source = 'term'

),

-- One row when a model exists, none otherwise (so nothing below produces a row).
model_params as (

    select
        coalesce(max(case when source = 'param' and term = 'bias' then weight end), 0.0) as bias,
        coalesce(max(case when source = 'name' then term end), 'the training set') as training_set
    from model
    having count(*) > 0

),

slang_map as (

    select map_from_entries(list(struct_pack(k := slang, v := standard))) as standard_of
    from slang

),

normalised as (

    select
        p.post_uid,
        list_transform(
            p.tokens, lambda t, i: coalesce(m.standard_of[t], m.standard_of[p.token_alts[i]], t)
        ) as norm_tokens
    from tokenised as p
    cross join slang_map as m
    where exists (select 1 from model_params)

),

post_terms as (

    select
        post_uid,
        unnest(list_distinct(list_concat(
            norm_tokens,
            list_transform(norm_tokens[2:], lambda t, i: norm_tokens[i] || ' ' || t)
        ))) as term
    from normalised

),

per_post as (

    select
        t.post_uid,
        sum(m.weight) as term_sum,
        list(m.term order by m.weight desc, m.term) filter (where m.weight > 0) as false_terms
    from post_terms as t
    inner join model_terms as m
        on m.term = t.term
    group by t.post_uid

),

final as (

    select
        n.post_uid,
        1 / (1 + exp(-(p.bias + coalesce(s.term_sum, 0)))) as misinfo_text_probability,
        coalesce(s.false_terms[1:3], cast([] as varchar[])) as misinfo_text_terms,
        p.training_set as training_set_name
    from normalised as n
    cross join model_params as p
    left join per_post as s
        on s.post_uid = n.post_uid

)

select * from final

{#-
    Misinformation risk from explainable cues, each contributing a weight w in (0, 1):

    * hoax/chain-message cues (seed `misinfo_cues`, matched as phrases, also in the colloquial
      spellings of `slang_normalisation`, one word at a time; a cue inside a longer matched cue does
      not count again): the cue's weight;
    * links to low-credibility domains (rating r below `low_credibility_rating` = t, seed
      `domain_ratings`): w = `low_credibility_max_weight` × (1 − r / t), once per domain;
    * a link shortener hiding the destination: `shortener_weight`, once per post;
    * shouting (at least 20 letters, ≥ 60% capitals): `shouting_weight`;
    * three or more exclamation marks: `exclamation_weight`;
    * matching a fact-checked claim (`int_posts_matched_claims`): `claim_match_weight` for a claim
      rated false, 0.6 × that for one rated misleading (true/unproven claims and posts that debunk
      the claim add nothing), once per claim;
    * membership of a coordinated cluster (`int_posts_clustered`): `coordination_max_weight` × the
      cluster's coordination_score.
    * with a trained text model only (`int_posts_scored_misinfo_text`, docs/misinformation.md): a
      text probability p above var `misinfo_text_threshold` (t, default 0.7) adds
      `misinfo_text_max_weight` (default 0.5) × (p − t) / (1 − t), with the reason "wording resembles
      claims rated false in <training set>". Without a model there is no such row, and the score is
      the shipped one.

    misinfo_risk_score = 1 − Π(1 − w) (0 when nothing fired); level low < 0.30 ≤ medium < 0.60 ≤ high.
    `misinfo_reasons` lists every contribution as a sentence, strongest first.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts() }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

with

tokenised as (

    select post_uid, tokens, letter_count, upper_count, exclamation_count
    from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only() }}

),

links as (

    select post_uid, registered_domain, is_short_link, domain_rating, domain_label, rating_source
    from {{ ref('int_post_links_parsed') }}
    {{ affected_posts_only() }}

),

claim_matches as (

    select post_uid, claim_id, claim_text, verdict, source_name, match_score, is_debunking
    from {{ ref('int_posts_matched_claims') }}
    {{ affected_posts_only() }}

),

text_model as (

    select post_uid, misinfo_text_probability, misinfo_text_terms, training_set_name
    from {{ ref('int_posts_scored_misinfo_text') }}
    {{ affected_posts_only() }}

),

clustered as (

    select post_uid, cluster_id, n_accounts, span_minutes, platforms, coordination_score
    from {{ ref('int_posts_clustered') }}

),

seed_cues as (

    select
        {{ normalise_phrase('cue') }} as term,
        cue,
        weight,
        reason
    from {{ ref('misinfo_cues') }}

),

-- Colloquial spellings of a cue: one word at a time replaced by a slang form of it (seed
-- `slang_normalisation`: "tidak diberitakan" also matches "gak diberitakan", "yang disembunyikan"
-- "yg disembunyikan"). A spelling that is itself a cue keeps that cue; two cues giving the same
-- spelling: the heavier wins.
cue_words as (

    select
        term,
        cue,
        weight,
        reason,
        unnest(string_split(term, ' ')) as word,
        generate_subscripts(string_split(term, ' '), 1) as i
    from seed_cues

),

slang_variants as (

    select
        array_to_string(
            list_transform(
                string_split(w.term, ' '), lambda x, j: case when j = w.i then s.slang else x end
            ),
            ' '
        ) as term,
        w.cue,
        w.weight,
        w.reason
    from cue_words as w
    inner join {{ ref('slang_normalisation') }} as s
        on s.standard = w.word

),

cues as (

    select term, cue, weight, reason from seed_cues
    union all
    select term, arg_max(cue, weight), max(weight), arg_max(reason, weight)
    from slang_variants
    where term not in (select term from seed_cues)
    group by term

),

cue_matches as (

    select * from {{ match_phrases('tokenised', 'cues') }}

),

matched_cues as (

    select distinct m.post_uid, c.term, c.weight, c.reason
    from cue_matches as m
    inner join cues as c
        on c.term = m.term

),

-- "sebarkan sebelum dihapus" also contains "sebarkan" and "sebelum dihapus": count the longest only.
cue_signals as (

    select
        a.post_uid,
        a.weight,
        'uses cue ''' || a.term || ''' (' || a.reason || ')' as reason
    from matched_cues as a
    where not exists (
        select 1
        from matched_cues as b
        where b.post_uid = a.post_uid
          and b.term <> a.term
          and contains(' ' || b.term || ' ', ' ' || a.term || ' ')
    )

),

domain_signals as (

    select distinct
        post_uid,
        round(
            {{ var('low_credibility_max_weight') }}
            * (1 - domain_rating / {{ var('low_credibility_rating') }}),
            4
        ) as weight,
        'links to ' || registered_domain || ', a site rated '
            || case when domain_label = 'satire' then 'as satire' else 'low-credibility' end
            || ' (rating ' || printf('%.2f', domain_rating) || ', ' || replace(domain_label, '_', ' ')
            || '; source: ' || rating_source || ')' as reason
    from links
    where domain_rating < {{ var('low_credibility_rating') }}

),

shortener_signals as (

    select
        post_uid,
        {{ var('shortener_weight') }} as weight,
        'uses a link shortener that hides the destination ('
            || string_agg(distinct registered_domain, ', ' order by registered_domain) || ')' as reason
    from links
    where is_short_link
    group by post_uid

),

style_signals as (

    select
        post_uid,
        {{ var('shouting_weight') }} as weight,
        'written mostly in capitals (' || cast(round(100.0 * upper_count / letter_count) as integer)
            || '% of letters)' as reason
    from tokenised
    where letter_count >= 20 and upper_count >= 0.6 * letter_count

    union all

    select
        post_uid,
        {{ var('exclamation_weight') }} as weight,
        'many exclamation marks (' || exclamation_count || ')' as reason
    from tokenised
    where exclamation_count >= 3

),

claim_signals as (

    select
        post_uid,
        round(
            {{ var('claim_match_weight', 0.5) }} * case verdict when 'false' then 1.0 else 0.6 end, 4
        ) as weight,
        'matches fact-checked ' || verdict || ' claim ''' || claim_text || ''' (' || source_name
            || ', ' || cast(round(100 * match_score) as integer) || '% similar)' as reason
    from claim_matches
    where verdict in ('false', 'misleading') and not is_debunking

),

coordination_signals as (

    select
        post_uid,
        round({{ var('coordination_max_weight', 0.6) }} * coordination_score, 4) as weight,
        'posted near-verbatim by ' || n_accounts || ' accounts within '
            || case
                when span_minutes < 60 then span_minutes || ' minutes'
                when span_minutes = 60 then '1 hour'
                else span_minutes || ' minutes (' || printf('%.1f', span_minutes / 60.0) || ' hours)'
            end
            || ' on ' || array_to_string(platforms, ' and ') || ' (cluster ' || cluster_id || ')' as reason
    from clustered

),

text_signals as (

    select
        post_uid,
        round(
            {{ var('misinfo_text_max_weight', 0.5) }}
            * (misinfo_text_probability - {{ var('misinfo_text_threshold', 0.7) }})
            / (1 - {{ var('misinfo_text_threshold', 0.7) }}),
            4
        ) as weight,
        'wording resembles claims rated false in ' || training_set_name
            || ' (text model probability ' || printf('%.2f', misinfo_text_probability)
            || case
                when len(misinfo_text_terms) > 0
                    then '; ' || array_to_string(list_transform(misinfo_text_terms, lambda x: '''' || x || ''''), ', ')
                else ''
            end
            || ')' as reason
    from text_model
    where misinfo_text_probability > {{ var('misinfo_text_threshold', 0.7) }}

),

signals as (

    select post_uid, weight, reason from cue_signals
    union all
    select post_uid, weight, reason from claim_signals
    union all
    select post_uid, weight, reason from coordination_signals
    union all
    select post_uid, weight, reason from domain_signals
    union all
    select post_uid, weight, reason from shortener_signals
    union all
    select post_uid, weight, reason from style_signals
    union all
    select post_uid, weight, reason from text_signals

),

per_post as (

    select
        post_uid,
        1 - exp(sum(ln(1 - least(weight, 0.999)))) as risk,
        list(reason order by weight desc, reason) as reasons
    from signals
    where weight > 0
    group by post_uid

),

final as (

    select
        t.post_uid,
        round(coalesce(p.risk, 0), 4) as misinfo_risk_score,
        case
            when coalesce(p.risk, 0) >= {{ var('misinfo_high_threshold') }} then 'high'
            when coalesce(p.risk, 0) >= {{ var('misinfo_medium_threshold') }} then 'medium'
            else 'low'
        end as misinfo_risk_level,
        coalesce(p.reasons, []) as misinfo_reasons
    from tokenised as t
    left join per_post as p
        on p.post_uid = t.post_uid

)

select * from final

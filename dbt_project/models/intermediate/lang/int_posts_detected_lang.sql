{#-
    The language of each post: `id`, `en`, `mixed` (code-mixed Indonesian-English) or another ISO 639
    code (`und` when there is nothing to detect).

    * A language the platform declared is used as is, normalised to its primary ISO 639-1 subtag
      (X's "in" -> "id", "iw" -> "he", "pt-BR" -> "pt"; ISO 639-2/3 codes and English names of the
      project's languages too: "ind"/"Indonesian" -> "id", "eng" -> "en"). A value that names several
      languages ("mixed", "id-en") or is no language code is a labelled set's column, not a
      declaration, and counts as not declared. "und", "zxx" and X's pseudo-codes ("qme",
      "qht", "qam", "qct", "qst") count as not declared.
    * Otherwise fastText's compact language-ID model decides (`detect_lang`, registered by the dbt
      plugin discourse.transform.dbt_plugin and only called for undeclared posts), corrected by the marker words
      (seed `lang_markers`, plus `lexicon_id` terms, plus the words of `int_lang_words`, derived from
      the wordfreq, PySastrawi and stopwordsiso packages, for words the seeds do not list) where it
      is known to err:
      - when at least `lang_marker_majority` (default 0.6) of the words, and at least two, are
        Indonesian markers and none is English, it is `id` (likewise `en`): fastText errs most on
        short posts of function words, often with high confidence ("kalau di sini" is Italian to it,
        "not a fan" Frisian);
      - short colloquial Indonesian is often taken for Malay, Javanese or Sundanese: when fastText
        answered a neighbouring language (ms, jv, su, min, bjn, tl, ceb, war) and either Indonesian
        markers make up at least 30% of the words or Indonesian is its runner-up with more Indonesian
        than English markers, it is `id`;
      - when fastText answered any other language with Indonesian as the runner-up (short headlines
        are now and then Italian to it, whose "di" is Indonesian's too), Indonesian markers make up at
        least 30% of the words and outnumber the English ones (for an `en` answer: no English marker
        at all), it is `id`;
      - when fastText answered a language other than Indonesian or English and Indonesian markers
        are at least two and `lang_marker_share` (0.4) of the words and outnumber the English ones,
        it is `id` whatever the runner-up: posts mixing Indonesian with English words and brand
        names ("serial Senja … tayang tadi pagi di platform streaming") are Italian or Tagalog to
        fastText, and the English words block the markers-only rule above;
      - below `lang_min_confidence`, the marker words decide when they can.
    * Code-mix rule, on top of all of these: a post whose language is `id` or `en`, or any language
      fastText detected (not declared), becomes `mixed` when both Indonesian and English marker words
      are substantial: at least `code_mix_min_hits` of
      each and each at least `code_mix_min_share` of the words.
    `lang_method` says which rule decided: declared, detected, markers, code_mix, none.

    The rules are written once for any marker language (macros/lang.sql) and driven by vars: the
    marker languages `lang_marker_languages` (['id', 'en']; rows of seed `lang_markers` with that
    `lang`), the languages whose markers overrule fastText's neighbouring answers `lang_neighbours`
    ({id: [ms, jv, su, ...]}; the 30% above is `lang_neighbour_share`), and the language pairs whose
    markers together make a post `mixed`, `code_mix_pairs` ([[id, en]]). "Indonesian" and "English"
    above are these vars' values; int_posts_detected_lang.yml says how to add a language.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_affected_posts() }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

{#- The marker languages and the rules' parameters come from vars (dbt_project.yml), so another
    language is rows in seed `lang_markers` plus vars, not SQL (see the model's yml). -#}
{%- set langs = var('lang_marker_languages') -%}
{%- set neighbours = var('lang_neighbours') -%}
{%- set code_mix_pairs = var('code_mix_pairs') -%}

with

posts as (

    select post_uid, lang_declared from {{ posts_to_enrich() }}

),

tokenised as (

    select post_uid, tokens, word_count, lang_text from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only() }}

),

marker_terms as (

    select {{ normalise_phrase('term') }} as term, lang from {{ ref('lang_markers') }}
    where lang in ('{{ langs | join("', '") }}')
    union all
    select {{ normalise_phrase('term') }} as term, lang from {{ ref('lexicon_id') }}
    where weight <> 0 and not contains(term, ' ') and lang in ('{{ langs | join("', '") }}')

),

seed_markers as (

    -- a word claimed by both languages marks neither
    select term, min(lang) as lang
    from marker_terms
    group by term
    having count(distinct lang) = 1

),

markers as (

    select term, lang from seed_markers
    union all
    -- the package-derived word lists, for words the seeds do not settle (claimed by both languages there
    -- counts as settled: such a word marks neither)
    select w.term, w.lang
    from {{ ref('int_lang_words') }} as w
    anti join marker_terms as m
        on m.term = w.term
    where w.lang in ('{{ langs | join("', '") }}')

),

marker_hits as (

    select
        t.post_uid,
        {%- for lang in langs %}
        count(*) filter (where m.lang = '{{ lang }}') as {{ lang }}_hits{{ "," if not loop.last }}
        {%- endfor %}
    from (select post_uid, unnest(tokens) as token from tokenised) as t
    inner join markers as m
        on m.term = t.token
    group by t.post_uid

),

declared as (

    select
        post_uid,
        case
            when primary_tag in ('', 'und', 'zxx', 'mul', 'mis', 'art', 'qme', 'qht', 'qam', 'qct', 'qst')
                then null
            -- a "language" column of a labelled set, not a platform's declaration: several languages
            -- ("mixed", "id-en", "en_id") or no code at all; detection decides
            when value in ('mixed', 'mix', 'code-mixed', 'code mixed', 'codemixed', 'cm', 'cs', 'campur')
                or regexp_matches(value, '^(id|in|ind|en|eng)[-_ /+](id|in|ind|en|eng)$')
                or not regexp_matches(primary_tag, '^[a-z]{2,3}$')
                    and primary_tag not in ('indonesian', 'indonesia', 'english', 'malay', 'javanese', 'sundanese')
                then null
            when primary_tag in ('in', 'ind', 'indonesian', 'indonesia') then 'id'
            when primary_tag in ('eng', 'english') then 'en'
            when primary_tag in ('msa', 'may', 'zsm', 'zlm', 'malay') then 'ms'
            when primary_tag in ('jw', 'jav', 'javanese') then 'jv'
            when primary_tag in ('sun', 'sundanese') then 'su'
            when primary_tag = 'iw' then 'he'
            when primary_tag = 'ji' then 'yi'
            else primary_tag
        end as declared_lang
    from (
        select
            post_uid,
            lower(trim(coalesce(lang_declared, ''))) as value,
            lower(split_part(replace(trim(coalesce(lang_declared, '')), '_', '-'), '-', 1)) as primary_tag
        from posts
    )

),

combined as (

    select
        t.post_uid,
        d.declared_lang,
        t.lang_text,
        t.word_count,
        {%- for lang in langs %}
        coalesce(h.{{ lang }}_hits, 0) as {{ lang }}_hits{{ "," if not loop.last }}
        {%- endfor %}
    from tokenised as t
    left join declared as d
        on d.post_uid = t.post_uid
    left join marker_hits as h
        on h.post_uid = t.post_uid

),

-- fastText runs only where nothing was declared and there are words to look at.
detections as (

    select
        post_uid,
        detect_lang(lang_text) as detection
    from combined
    where declared_lang is null and lang_text <> ''

),

resolved as (

    select
        c.post_uid,
        c.declared_lang,
        c.word_count,
        {%- for lang in langs %}
        c.{{ lang }}_hits,
        {%- endfor %}
        d.detection.lang as detected_lang,
        d.detection.score as detected_score,
        case
            when c.declared_lang is not null then c.declared_lang
            when d.detection is null then 'und'
            {%- for lang in langs %}
            when {{ lang_only_markers_of(lang) }} then '{{ lang }}'
            {%- endfor %}
            {%- for lang in neighbours %}
            when {{ lang_markers_overrule(lang) }} then '{{ lang }}'
            {%- endfor %}
            {%- for lang in langs %}
            when d.detection.score < {{ var('lang_min_confidence') }} and {{ lang_markers_lead(lang) }} then '{{ lang }}'
            {%- endfor %}
            else d.detection.lang
        end as base_lang,
        case
            when c.declared_lang is not null then 'declared'
            when d.detection is null then 'none'
            {%- for lang in langs %}
            when {{ lang_only_markers_of(lang) }} then 'markers'
            {%- endfor %}
            {%- for lang in neighbours %}
            when {{ lang_markers_overrule(lang) }} then 'markers'
            {%- endfor %}
            when d.detection.score < {{ var('lang_min_confidence') }}
                and ({% for lang in langs %}{{ lang_markers_lead(lang) }}{{ ' or ' if not loop.last }}{% endfor %}) then 'markers'
            else 'detected'
        end as base_method
    from combined as c
    left join detections as d
        on d.post_uid = c.post_uid

),

final as (

    select
        post_uid,
        case when is_code_mixed then 'mixed' else base_lang end as lang,
        case when is_code_mixed then 'code_mix' else base_method end as lang_method,
        declared_lang,
        detected_lang,
        round(detected_score, 4) as detected_score,
        {%- for lang in langs %}
        {{ lang }}_hits as lang_{{ lang }}_markers{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            *,
            -- a post in one of the pair's languages, or one fastText gave another language (code-mixed
            -- posts are Italian or Tagalog to it now and then); a declared other language stays
            (
            {%- for pair in code_mix_pairs %}
                (
                    (base_lang in ('{{ pair | join("', '") }}') or base_method = 'detected')
                    {%- for lang in pair %}
                    and {{ lang }}_hits >= {{ var('code_mix_min_hits') }}
                    {%- endfor %}
                    {%- for lang in pair %}
                    and {{ lang }}_hits >= {{ var('code_mix_min_share') }} * word_count
                    {%- endfor %}
                ){{ ' or' if not loop.last }}
            {%- endfor %}
            {%- if not code_mix_pairs %}false{% endif %}
            ) as is_code_mixed
        from resolved
    )

)

select * from final

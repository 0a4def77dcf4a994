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
    * Per-token evidence, before all of these (docs/language.md): every word token (hashtag words left
      out) gets the language of the marker lists (seed `lang_markers`, `lexicon_id`, `int_lang_words`;
      a package-derived English word only when English does not trail Indonesian by more than
      `lang_token_en_min_lead` in wordfreq, so names Indonesian text uses more than English text count
      for neither; words capitalised inside a sentence are names and count for neither), else Indonesian when stripping Indonesian affixes leaves an Indonesian root
      (`int_lang_id_roots`, or an Indonesian marker), else both languages when the affix sits on an
      English word ("deadlinenya", "disubmit"), else none. `lang_shares` is each marker language's share
      of the tagged tokens (a token of both counts for both, as in token-tagged gold sets). With at least
      `lang_token_min_tagged` tagged tokens (and, when fastText answered a language that is neither a
      marker language nor a neighbour, when they are at least `lang_token_min_coverage` of the words),
      the shares decide: `mixed` when both languages of a `code_mix_pairs` pair have at least
      `code_mix_min_share` (0.20, the gold definition) and `code_mix_min_hits` tokens, else the language
      with the largest share (method `markers`, or `detected` when that is fastText's answer too). A
      declared language stays unless the shares say `mixed`.
      Posts with less evidence keep the rules above.
    `lang_method` says which rule decided: declared, detected, markers (marker words or the per-token
    shares), code_mix, none.
    `lang_score` is the strength of the evidence for `lang`: fastText's probability when fastText decided,
    the share of the decided language's tokens when the tokens decided (for `mixed`: the minority
    language's share, the number compared with `code_mix_min_share`), NULL when declared or undetectable.
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
    pre_hook="{{ delete_affected_posts(content=true) }}",
) }}
/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_posts_delta') }} */

{#- The marker languages and the rules' parameters come from vars (dbt_project.yml), so another
    language is rows in seed `lang_markers` plus vars, not SQL (see the model's yml). -#}
{%- set langs = var('lang_marker_languages') -%}
{%- set neighbours = var('lang_neighbours') -%}
{%- set code_mix_pairs = var('code_mix_pairs') -%}
{%- set ns = namespace(neighbour_codes=[]) -%}
{%- for lang in neighbours %}{% set ns.neighbour_codes = ns.neighbour_codes + neighbours[lang] %}{% endfor -%}

with

posts as (

    select post_uid, lang_declared, text from {{ posts_to_enrich() }}

),

tokenised as (

    select post_uid, tokens, word_count, lang_text from {{ ref('int_posts_tokenised') }}
    {{ affected_posts_only(content=true) }}

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
    -- counts as settled: such a word marks neither); an English word that Indonesian text uses more than
    -- English text does (names: "toyota", "korea", "messi"), or a two-letter word both use alike ("oh",
    -- "vs"), marks neither
    select w.term, w.lang
    from {{ ref('int_lang_words') }} as w
    anti join marker_terms as m
        on m.term = w.term
    where w.lang in ('{{ langs | join("', '") }}')
        and (
            w.lang <> 'en'
            or w.zipf_en - w.zipf_id >= {{ var('lang_token_en_min_lead') }}
                and not (
                    length(w.term) <= 2 and w.zipf_id > 0
                    and abs(w.zipf_en - w.zipf_id) < {{ var('lang_token_short_min_lead') }}
                )
        )

),

-- the word tokens that carry language evidence: hashtag words (a tag is a label, not text), names,
-- laughter "haha" and export placeholders are left out. A name is a word capitalised inside a
-- sentence, after a word that ends in a letter, digit or comma and is no @mention or hashtag ("landed in
-- Jakarta", "ayo Indonesia"), or an acronym of 2 to 6 capitals ("PSSI", "DPR"), unless such words are
-- more than half of the words (a Title Case headline or a SHOUTED post says nothing about names).
excluded_words as (

    select
        post_uid,
        list_distinct(
            case
                when contains(text, '#')
                    then regexp_extract_all(
                        array_to_string(regexp_extract_all(lower(text), '#[\p{L}\p{M}\p{N}_]+'), ' '),
                        {{ token_pattern() }}
                    )
                else []
            end
            || case
                when len(capitalised) > 0 and len(capitalised) * 2 <= len(words) then capitalised
                else []
            end
            -- HTML entities ("&amp;") and the placeholders of anonymised exports ("<USER>", "[URL]",
            -- "HTTPURL") are no words of the post
            || regexp_extract_all(lower(text), '&([a-z]+);', 1)
            || regexp_extract_all(lower(text), '[<\[]([a-z_]+)[>\]]', 1)
            || list_transform(regexp_extract_all(text, '\b(URL|HTTPURL|USER|USERNAME|MENTION)\b', 1), lambda w: lower(w))
        ) as words
    from (
        select
            post_uid,
            text,
            words,
            case
                when regexp_matches(text, '\s\p{Lu}\p{Ll}|\p{Lu}\p{Lu}')
                    then list_filter(
                        list_transform(
                            words,
                            lambda w, i: case
                                when i > 1 and regexp_matches(w, '^\p{Lu}\p{Ll}+')
                                    and regexp_matches(words[i - 1], '^[^@#].*[\p{L}\p{N},]$|^[\p{L}\p{N}]$')
                                    then lower(regexp_extract(w, '^[\p{L}\p{M}]+'))
                                -- an acronym anywhere ("PSSI", "JNE", "DPR")
                                when regexp_matches(w, '^\p{Lu}{2,6}(?:[^\p{L}]|$)')
                                    then lower(regexp_extract(w, '^\p{Lu}+'))
                            end
                        ),
                        lambda w: w is not null
                    )
                else []
            end as capitalised
        from (
            select post_uid, text, regexp_extract_all(text, '\S+') as words
            from posts
            where regexp_matches(coalesce(text, ''), '[#&<\[]|\s\p{Lu}\p{Ll}|\p{Lu}\p{Lu}')
        )
    )

),

post_tokens as (

    select post_uid, token
    from (
        select
            t.post_uid,
            unnest(
                case
                    when len(x.words) > 0 then list_filter(t.tokens, lambda w: not list_contains(x.words, w))
                    else t.tokens
                end
            ) as token
        from tokenised as t
        left join excluded_words as x
            on x.post_uid = t.post_uid
    )
    -- "haha" (the tokeniser's fold of any ha-laughter) is both languages' ("wkwk", "hehe": Indonesian, lexicon_id)
    where token <> 'haha'


),

-- words no marker list knows, looked at once each: Indonesian affixes around an Indonesian root make
-- them Indonesian; around an English word, both languages (docs/language.md)
unknown_words as (

    select distinct token as term
    from post_tokens
    where length(token) >= 4 and regexp_matches(token, '^[a-z]+$')
        and token not in (select term from markers)

),

id_roots as (

    select term from {{ ref('int_lang_id_roots') }}
    union
    select term from markers where lang = 'id'

),

affix_candidates as (

    select term, unnest({{ lang_affix_candidates('term') }}) as candidate
    from unknown_words

),

affixed_words as (

    select
        a.term,
        case when bool_or(r.term is not null) then 'id' else 'id+en' end as lang
    from affix_candidates as a
    left join id_roots as r
        on r.term = a.candidate
    left join markers as e
        on e.term = a.candidate and e.lang = 'en' and length(a.candidate) >= 4
    group by a.term
    having bool_or(r.term is not null) or bool_or(e.term is not null and {{ lang_mixing_affix('a.term') }})

),

token_langs as (

    select term, lang from markers
    union all
    select term, lang from affixed_words

),

marker_hits as (

    select
        t.post_uid,
        {%- for lang in langs %}
        count(*) filter (where m.lang = '{{ lang }}'{% if lang in ('id', 'en') %} or m.lang = 'id+en'{% endif %}) as {{ lang }}_hits{{ "," if not loop.last }}
        {%- endfor %}
    from post_tokens as t
    inner join token_langs as m
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
        coalesce(h.{{ lang }}_hits, 0) as {{ lang }}_hits,
        {%- endfor %}
        {% for lang in langs %}coalesce(h.{{ lang }}_hits, 0){{ ' + ' if not loop.last }}{% endfor %} as tagged_tokens
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
        c.tagged_tokens,
        {%- for lang in langs %}
        c.{{ lang }}_hits,
        {%- endfor %}
        d.detection.lang as detected_lang,
        d.detection.score as detected_score,
        -- the per-token shares decide: enough tagged tokens, and a declared marker language, or fastText's
        -- answer a marker language, a neighbour or unsure, or the tagged tokens most of the words
        c.tagged_tokens >= {{ var('lang_token_min_tagged') }}
        and (
            c.declared_lang in ('{{ langs | join("', '") }}')
            or c.declared_lang is null and d.detection is not null and (
                d.detection.lang in ('{{ (langs + ns.neighbour_codes) | join("', '") }}')
                or d.detection.score < {{ var('lang_min_confidence') }}
                or c.tagged_tokens >= {{ var('lang_token_min_coverage') }} * c.word_count
            )
        ) as tokens_decide,
        -- the language with the largest share (ties: fastText's answer, else the first marker language)
        case
            {%- for lang in langs %}
            when {% for other in langs if other != lang %}c.{{ lang }}_hits {{ '>=' if lang == langs[0] else '>' }} c.{{ other }}_hits{{ ' and ' if not loop.last }}{% endfor %}
                and not ({% for other in langs if other != lang %}c.{{ other }}_hits = c.{{ lang }}_hits and d.detection.lang = '{{ other }}'{{ ' or ' if not loop.last }}{% endfor %})
                then '{{ lang }}'
            {%- endfor %}
            else d.detection.lang
        end as token_lang,
        (
        {%- for pair in code_mix_pairs %}
            (
                {%- for lang in pair %}
                c.{{ lang }}_hits >= {{ var('code_mix_min_hits') }}
                and c.{{ lang }}_hits >= {{ var('code_mix_min_share') }} * c.tagged_tokens{{ ' and' if not loop.last }}
                {%- endfor %}
            ){{ ' or' if not loop.last }}
        {%- endfor %}
        {%- if not code_mix_pairs %}false{% endif %}
        ) as shares_mixed,
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

decided as (

    select
        *,
        case
            when tokens_decide and shares_mixed then 'mixed'
            when tokens_decide and declared_lang is null then token_lang
            else base_lang
        end as lang,
        -- the shares confirming fastText's answer: fastText's (`detected`)
        case
            when tokens_decide and shares_mixed then 'code_mix'
            when tokens_decide and declared_lang is null and token_lang is distinct from detected_lang then 'markers'
            when tokens_decide and declared_lang is null then 'detected'
            else base_method
        end as lang_method
    from resolved

),

final as (

    select
        post_uid,
        lang,
        lang_method,
        declared_lang,
        detected_lang,
        round(detected_score, 4) as detected_score,
        round(case
            when lang_method = 'detected' then detected_score
            when lang_method = 'code_mix' then least(
                {%- for lang in langs %}
                case when {{ lang }}_hits > 0 then {{ lang }}_hits end{{ ',' if not loop.last }}
                {%- endfor %}
            ) / tagged_tokens
            when lang_method = 'markers' and tagged_tokens > 0 then case lang
                {%- for lang in langs %}
                when '{{ lang }}' then {{ lang }}_hits
                {%- endfor %}
            end / tagged_tokens
        end, 4)::float as lang_score,
        case
            when tagged_tokens > 0
                then map(
                    ['{{ langs | join("', '") }}'],
                    [{% for lang in langs %}round({{ lang }}_hits / tagged_tokens, 4)::double{{ ', ' if not loop.last }}{% endfor %}]
                )
        end as lang_shares,
        tagged_tokens as lang_tagged_tokens,
        {%- for lang in langs %}
        {{ lang }}_hits as lang_{{ lang }}_markers{{ "," if not loop.last }}
        {%- endfor %}
    from decided

)

select * from final

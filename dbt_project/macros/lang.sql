{#-
    The rules of `int_posts_detected_lang`, for any marker language `lang` (var `lang_marker_languages`).
    They compare the per-post marker counts `c.<lang>_hits` with fastText's answer `d.detection`
    (lang, score, alt_lang). With the languages `['id', 'en']` they are the original Indonesian/English
    rules word for word.
-#}

{#- `lang`'s markers outnumber every other marker language's. -#}
{%- macro lang_markers_lead(lang) -%}
    {%- set langs = var('lang_marker_languages') -%}
    ({% for other in langs if other != lang %}c.{{ lang }}_hits > c.{{ other }}_hits{{ ' and ' if not loop.last }}{% else %}true{% endfor %})
{%- endmacro %}

{#- No marker of any other language. -#}
{%- macro lang_others_absent(lang) -%}
    {%- set langs = var('lang_marker_languages') -%}
    ({% for other in langs if other != lang %}c.{{ other }}_hits = 0{{ ' and ' if not loop.last }}{% else %}true{% endfor %})
{%- endmacro %}

{#- fastText answered something else, but the words are mostly one language's markers and none is another
    language's: short posts of function words ("kalau di sini", "not a fan") are where fastText errs
    most, often with high confidence. -#}
{%- macro lang_only_markers_of(lang) -%}
    (d.detection.lang <> '{{ lang }}' and {{ lang_others_absent(lang) }}
        and c.{{ lang }}_hits >= greatest(2, {{ var('lang_marker_majority', 0.6) }} * c.word_count))
{%- endmacro %}

{#- A language of `lang_neighbours` overrides fastText's answer (see the header): a neighbouring language
    with enough of its markers, or with it as the runner-up; any other language whose runner-up it is,
    when the markers clearly say so; any language that has no markers, when its markers are many. -#}
{%- macro lang_markers_overrule(lang) -%}
    {%- set langs = var('lang_marker_languages') -%}
    {%- set neighbours = var('lang_neighbours')[lang] -%}
    (
        {%- if neighbours %}
        d.detection.lang in ('{{ neighbours | join("', '") }}')
        and (
            c.{{ lang }}_hits >= {{ var('lang_neighbour_share', 0.3) }} * c.word_count
            or (d.detection.alt_lang = '{{ lang }}' and {{ lang_markers_lead(lang) }})
        )
        or
        {%- endif %}
        (
            d.detection.lang <> '{{ lang }}'
            and d.detection.alt_lang = '{{ lang }}'
            and c.{{ lang }}_hits >= {{ var('lang_neighbour_share', 0.3) }} * c.word_count
            and {{ lang_markers_lead(lang) }}
            {%- for other in langs if other != lang %}
            and (d.detection.lang <> '{{ other }}' or c.{{ other }}_hits = 0)
            {%- endfor %}
        )
        or (
            d.detection.lang not in ('{{ langs | join("', '") }}')
            and c.{{ lang }}_hits >= greatest(2, {{ var('lang_marker_share', 0.4) }} * c.word_count)
            and {{ lang_markers_lead(lang) }}
        )
    )
{%- endmacro %}


{#- Candidate Indonesian roots of a word (a list expression), for the affix rule of the per-token evidence
    (docs/language.md): the word with up to two suffixes stripped (-nya, -kan, -lah, -kah, -pun, -ku, -mu, -an,
    -in, -i, then -kan, -an, -in, -i: "makanannya" -> "makanan" -> "makan"), each of those with a prefix
    stripped (di-, ke-, se-, ter-, ber-, per-, meN-, peN-, colloquial nge-, ng-, ny-; twice for "diper-",
    "memper-"), and with the nasal of meN-/peN-/ng-/ny- restored to the root's first letter ("menulis" ->
    "tulis", "ngirim" -> "kirim", "nyari" -> "cari"). Only candidates of at least three letters that differ
    from the word are kept. -#}
{%- macro lang_affix_candidates(word) -%}
    {%- set suffix1 = "'(nya|kan|lah|kah|pun|ku|mu|an|in|i)$'" -%}
    {%- set suffix2 = "'(kan|an|in|i)$'" -%}
    {%- set prefix_long = "'^(meng|meny|mem|men|peng|peny|pem|pen|ber|ter|per|nge|di|ke|se|me|pe|be|ng|ny)'" -%}
    {%- set prefix_short = "'^(di|ke|se|ter|ber|per|me|pe|be)'" -%}
    list_filter(
        list_distinct(flatten(list_transform(
            [{{ word }}, regexp_replace({{ word }}, {{ suffix1 }}, ''),
             regexp_replace(regexp_replace({{ word }}, {{ suffix1 }}, ''), {{ suffix2 }}, '')],
            lambda x: [
                x,
                regexp_replace(x, {{ prefix_long }}, ''),
                regexp_replace(regexp_replace(x, {{ prefix_long }}, ''), {{ prefix_long }}, ''),
                regexp_replace(x, {{ prefix_short }}, ''),
                regexp_replace(x, '^(meng|peng|ng)([aeiou])', 'k\2'),
                regexp_replace(x, '^(mem|pem)([aeiou])', 'p\2'),
                regexp_replace(x, '^(men|pen)([aeiou])', 't\2'),
                regexp_replace(x, '^(meny|peny|ny)([aeiou])', 's\2'),
                regexp_replace(x, '^(ny)([aeiou])', 'c\2')
            ]
        ))),
        lambda c: length(c) >= 3 and c <> {{ word }}
    )
{%- endmacro %}


{#- The word carries an affix that Indonesian puts on English stems ("di-submit", "nge-post",
    "ending-nya", "posting-an", "cancel-in"): an English stem under it makes the token mixed. -#}
{%- macro lang_mixing_affix(word) -%}
    regexp_matches({{ word }}, '^(di|nge|ng|ke|ter|ber|meng|mem|men|me)|(nya|in|an|kan)$')
{%- endmacro %}

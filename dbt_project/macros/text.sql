{#-
    Text normalisation and tokenisation shared by every text model, so that lexicon, keyword and cue
    terms (seeds) and post tokens are compared in one normal form:

    * URLs, e-mail addresses and @mentions are dropped; the '#' of a hashtag is dropped, its word kept;
    * curly apostrophes become straight ones; text is lower-cased;
    * laughter is folded ("wkwkwk" -> "wkwk", "hahaha" -> "haha", "hehehe" -> "hehe");
    * a letter repeated three or more times is cut to two ("kerennn" -> "kerenn"); the variant cut to
      one letter ("keren") is kept aside for lexicon look-ups;
    * tokens are runs of letters (with combining marks and an inner apostrophe: "don't", "it's"),
      emoticons (":)", ":-(", ";D", "<3") and single emoji/symbols (Unicode "Symbol, other"). Digits and
      punctuation separate tokens and are not tokens themselves.

    The costlier rewrites only run on texts that can need them (most posts have no URL, laughter or
    elongated word), which keeps tokenisation close to one regex pass per post.
-#}

{% macro token_pattern() -%}
    '[\p{L}\p{M}]+(?:''[\p{L}\p{M}]+)*|[:;=][-o''^]?[)(\]\[dDpPbB/|*]|</?3|\p{So}'
{%- endmacro %}


{% macro strip_noise(expr) -%}
    replace(replace(replace(replace(
        case
            when contains({{ strip_urls(expr) }}, '@')
                then regexp_replace({{ strip_urls(expr) }}, '[\w.+-]*@[\w.-]+', ' ', 'g')
            else {{ strip_urls(expr) }}
        end,
        chr(10), ' '), chr(8217), ''''), chr(8216), ''''), chr(65039), '')
{%- endmacro %}


{% macro strip_urls(expr) -%}
    case
        when regexp_matches(coalesce({{ expr }}, ''), '(?i)https?://|www\.')
            then regexp_replace({{ expr }}, '(?i)(?:https?://|www\.)\S+', ' ', 'g')
        else coalesce({{ expr }}, '')
    end
{%- endmacro %}


{% macro fold_laughter(expr) -%}
    case
        when regexp_matches({{ expr }}, '(?:wk){2}|(?:kw){2}|(?:ha){2}|(?:he){2}|hah|heh')
            then regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                {{ expr }},
                '\b(?:w+k+){2,}w*\b', 'wkwk', 'g'),
                '\b(?:k+w+){2,}k*\b', 'wkwk', 'g'),
                '\b(?:h+a+){2,}h*\b', 'haha', 'g'),
                '\b(?:h+e+){2,}h*\b', 'hehe', 'g')
        else {{ expr }}
    end
{%- endmacro %}


{% macro elongation_pattern() -%}
    '{% for c in "abcdefghijklmnopqrstuvwxyz" %}{{ c ~ c ~ c }}{{ "|" if not loop.last }}{% endfor %}'
{%- endmacro %}


{#- Cut every run of 3+ identical ASCII letters down to `keep` letters (1 or 2). -#}
{% macro collapse_elongation(expr, keep) -%}
    {%- set ns = namespace(sql=expr) -%}
    {%- for c in "abcdefghijklmnopqrstuvwxyz" -%}
        {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '" ~ c ~ "{3,}', '" ~ (c * keep) ~ "', 'g')" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}


{#- collapse_elongation, run only where some letter repeats three times (rare). -#}
{% macro cut_elongation(expr, keep) -%}
    case
        when regexp_matches({{ expr }}, {{ elongation_pattern() }})
            then {{ collapse_elongation(expr, keep) }}
        else {{ expr }}
    end
{%- endmacro %}


{#- The normal form of a text, before token extraction (lower-case, laughter folded, runs cut to 2). -#}
{% macro normalise_text(expr) -%}
    {{ cut_elongation(fold_laughter('lower(' ~ strip_noise(expr) ~ ')'), 2) }}
{%- endmacro %}


{#- Token list of a text expression (used for posts and to normalise seed terms alike). -#}
{% macro tokenise(expr) -%}
    regexp_extract_all({{ normalise_text(expr) }}, {{ token_pattern() }})
{%- endmacro %}


{#- Space-joined normal form of a phrase: how keyword/cue phrases are compared with n-grams. -#}
{% macro normalise_phrase(expr) -%}
    array_to_string({{ tokenise(expr) }}, ' ')
{%- endmacro %}


{#- A token that can be a trending term or half of a bigram (stopwords aside, which need their table):
    it starts with a letter and has at least two characters (`int_post_terms`, which the trends and
    the stories both read). -#}
{% macro content_word(expr) -%}
    (regexp_matches({{ expr }}, '^\p{L}') and length({{ expr }}) >= 2)
{%- endmacro %}


{#- A post's hashtags as trend terms: lower-cased, without '#', empty ones dropped, each once. -#}
{% macro hashtag_terms(expr) -%}
    list_distinct(list_filter(
        list_transform({{ expr }}, lambda h: lower(ltrim(trim(h), '#'))), lambda h: h <> ''
    ))
{%- endmacro %}

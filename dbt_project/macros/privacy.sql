{#-
    What the marts publish about accounts (docs/security.md, "Identities in the marts").

    The lake keeps what the exports said; the marts are handed to analysts, so by default they carry
    no handle, no DID and no URL that names an account:

    * `published_url(url)`: the post's link in an identity-free form, or NULL where the platform has
      none (`DISCOURSE_PUBLISH_URLS=true` keeps the links as exported);
    * `published_mentions(...)`: the mentioned accounts' keyed hashes (`mention_keys` in the lake),
      not their handles (`DISCOURSE_PUBLISH_HANDLES=true` keeps the handles);
    * `published_text(text)`: `@handle` tokens (and `RT @handle:`) become `@user`, as TweetEval does
      (`DISCOURSE_PUBLISH_HANDLES=true` keeps them). Enrichment (sentiment, topics, clusters) reads the
      original text upstream; only the published column is masked.

    Both settings reach dbt as env vars (`discourse.transform.runner.dbt_env`); a `--vars` of the same
    name wins (tests, a manual build). They are build settings: changing one rebuilds every mart
    (`discourse.transform.state.SETTINGS`).
-#}

{% macro privacy_flag(name) -%}
    {%- set given = var(name, none) -%}
    {%- if given is none -%}
        {%- set given = env_var('DISCOURSE_' ~ name | upper, 'false') -%}
    {%- endif -%}
    {{- return((given | string | lower | trim) in ('1', 'true', 'yes', 'on')) -}}
{%- endmacro %}


{#- The link analysts see. By host, whatever the platform column says (a generic CSV may carry any
    site's links):
    * X/Twitter status URLs -> https://x.com/i/web/status/<id> (X's own handle-free form);
    * Reddit permalinks carry the subreddit and the thread, not the author; a post in a user's own
      profile (`/r/u_<name>/`, `/user/<name>/`, `/u/<name>/`) names its author, so it becomes the
      handle-free `https://www.reddit.com/comments/<id>/...` form;
    * YouTube `watch?v=<video>&lc=<comment>` names the video, not the commenter: kept;
    * Instagram `/p/<code>/` and `/reel/<code>/`: no account in the URL: kept;
    * everything else (Bluesky profile/DID URLs, Mastodon `@user` URLs, TikTok `@user`, Threads
      `@user`, Telegram `t.me/<channel>`, unknown hosts): NULL. -#}
{% macro published_url(url) -%}
    {%- if privacy_flag('publish_urls') -%}
        {{ url }}
    {%- else -%}
        case
            when regexp_matches({{ url }}, '^https?://(www\.|mobile\.)?(x|twitter)\.com/[^/?#]+/status(es)?/[0-9]+')
                then 'https://x.com/i/web/status/'
                    || regexp_extract({{ url }}, '/status(es)?/([0-9]+)', 2)
            when regexp_matches({{ url }}, '^https?://((www|old|new|np)\.)?reddit\.com/(r/u_[^/]+|u|user)/[^/]+/comments/[A-Za-z0-9]+')
                then 'https://www.reddit.com/comments/'
                    || regexp_extract({{ url }}, '/comments/([A-Za-z0-9]+(/[^?#]*)?)', 1)
            when regexp_matches({{ url }}, '^https?://((www|old|new|np)\.)?reddit\.com/(r/[A-Za-z0-9][A-Za-z0-9_]*/)?comments/[A-Za-z0-9]+[^@?#]*$')
                and not regexp_matches({{ url }}, '/r/u_')
                then {{ url }}
            when regexp_matches({{ url }}, '^https?://(www\.|m\.)?youtube\.com/watch\?v=[A-Za-z0-9_-]+(&lc=[A-Za-z0-9_.-]+)?$')
                then {{ url }}
            when regexp_matches({{ url }}, '^https?://(www\.)?instagram\.com/(p|reel)/[A-Za-z0-9_-]+/?$')
                then {{ url }}
        end
    {%- endif -%}
{%- endmacro %}


{#- A link inside a post (`links`), as published: links to news and other sites stay; links that
    name an account go (X/Twitter status links become the handle-free status form):
    profiles and posts on x.com/twitter.com, bsky.app, t.me, `/@name` paths (Mastodon, TikTok,
    Threads, YouTube, Medium, ...), `/users/<name>` (ActivityPub), Reddit `/u/` and `/user/`,
    YouTube `/channel/`, `/c/` and `/user/`, Instagram and Facebook profiles. -#}
{% macro published_link(link) -%}
    {%- if privacy_flag('publish_urls') -%}
        {{ link }}
    {%- else -%}
        case
            when regexp_matches({{ link }}, '^https?://(www\.|mobile\.)?(x|twitter)\.com/[^/?#]+/status(es)?/[0-9]+')
                then 'https://x.com/i/web/status/'
                    || regexp_extract({{ link }}, '/status(es)?/([0-9]+)', 2)
            when regexp_matches(
                    lower({{ link }}),
                    '^https?://([a-z0-9-]+\.)*(x\.com|twitter\.com|bsky\.app|t\.me|telegram\.me)(/|$)'
                    || '|^https?://[^/]+/(@|users/|u/|user/|channel/|c/)'
                    || '|^https?://([a-z0-9-]+\.)*(instagram\.com|facebook\.com|threads\.net|tiktok\.com)/[^/?#]+/?([?#]|$)'
                 )
                then null
            else {{ link }}
        end
    {%- endif -%}
{%- endmacro %}


{#- The post's links, as published (`published_link` of each; the dropped ones leave the list). -#}
{% macro published_links(links) -%}
    {%- if privacy_flag('publish_urls') -%}
        {{ links }}
    {%- else -%}
        list_filter(list_transform({{ links }}, lambda l: {{ published_link('l') }}), lambda l: l is not null)
    {%- endif -%}
{%- endmacro %}


{#- The `@handle` tokens of a text as `@user`: a handle is `@` after the start or a character that
    cannot precede one (so `name@example.org` stays), then letters, digits, `_`, inner `.`/`-`, and an
    optional `@instance.tld` (Mastodon) part. -#}
{% macro published_text(text) -%}
    {%- if privacy_flag('publish_handles') -%}
        {{ text }}
    {%- else -%}
        regexp_replace(
            {{ text }},
            '(^|[^A-Za-z0-9_@/.])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?',
            '\1@user',
            'g'
        )
    {%- endif -%}
{%- endmacro %}


{#- The mentioned accounts: their keyed hashes (`mention_keys.author_key`, written by the lake), or
    the handles as exported with `publish_handles`. Without the lake column (a lake written before
    mention keys existed) nothing is published rather than handles. -#}
{% macro published_mentions(alias='p', relation=none) -%}
    {%- if privacy_flag('publish_handles') -%}
        {{ alias }}.mentions
    {%- elif lake_has_column(relation or ref('stg_lake__posts'), 'mention_keys') -%}
        coalesce(
            list_filter(list_transform({{ alias }}.mention_keys, lambda m: m.author_key), lambda k: k is not null),
            []
        )
    {%- else -%}
        cast([] as varchar[])
    {%- endif -%}
{%- endmacro %}


{% macro lake_has_column(relation, column) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set cols = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{- return(column | lower in cols) -}}
{%- endmacro %}

{#-
    Data tests that cost what the night brings (docs/incremental.md, "Data tests on incremental nights").

    dbt wraps the model a generic test reads (`not_null`, `unique`, `accepted_values`, `relationships`,
    and this project's `unique_combination`, `expression_is_true`, `value_between`, `list_values_in`)
    in `get_where_subquery`. On an incremental night (the `night_batches` var is set) this project's
    version narrows an incremental model to the rows the night deleted and wrote again: the other rows
    are the ones last night's tests passed, unchanged since. Every scope below is the model's own
    pre-hook delete, so the test reads exactly the rows the night rewrote.

    - A key-scoped uniqueness test still sees every row that shares a key with a rewritten row (the
      scope column is the key, or part of it), so a duplicate made tonight is found.
    - The coordination chain is scoped by its change sets: texts and buckets by the changed texts,
      families by the regrouped texts, clustered posts by the recomputed families (and the posts
      whose lake rows changed). `int_text_links` (a few rows per near-duplicate text) is tested whole.
    - Tables rebuilt in full every night (graph marts, coordinated clusters, trends' windows) are not
      listed and keep whole-table tests; so do singular tests and every test of a full build or of a reference
      refresh (no `night_batches`).
    - A test's own `where` config still applies, on top of the scope.
    - The subquery keeps the model's name as its alias (dbt's default calls it `dbt_subquery`), so an
      `expression_is_true` that names the model in a correlated subquery still binds.
-#}

{#- Model -> the predicate of the rows an incremental night rewrites; `@name` is that model's relation. -#}
{% macro incremental_test_scopes() -%}
    {%- set by_post = "post_uid in (select post_uid from @int_posts_affected)" -%}
    {%- set by_content_post = "post_uid in (select post_uid from @int_posts_delta_keys)" -%}
    {%- set by_date = "activity_date in (select activity_date from @int_affected_dates)" -%}
    {%- set by_direct_date = "activity_date in (select activity_date from @int_affected_dates where direct)" -%}
    {%- set by_content_date = "activity_date in (select activity_date from @int_affected_dates where content)" -%}
    {%- set by_direct_content_date = "activity_date in (select activity_date from @int_affected_dates where content_direct)" -%}
    {%- set baseline = var('spike_baseline_days', 7) -%}
    {{ return({
        'posts': by_post,
        'int_posts_detected_lang': by_content_post,
        'int_posts_tokenised': by_content_post,
        'int_sentiment_tokens_normalised': by_content_post,
        'int_posts_scored_sentiment': by_content_post,
        'int_emotion_tokens_matched': by_content_post,
        'int_posts_scored_emotion': by_content_post,
        'int_posts_tagged_topics': by_content_post,
        'int_post_terms': by_content_post,
        'int_posts_matched_claims': by_content_post,
        'int_post_links_parsed': by_content_post,
        'int_posts_scored_misinfo': by_post,
        'int_posts_scored_misinfo_text': by_content_post,
        'int_post_edges_stated': by_content_post,
        'int_post_edges': "post_uid in (select post_uid from @int_edges_affected_posts)",
        'int_posts_fingerprinted': "post_uid in (select post_uid from @int_posts_delta_keys)",
        'int_texts': "text_hash in (select text_hash from @int_texts_changed)",
        'int_text_buckets': "text_hash in (select text_hash from @int_texts_changed)",
        'int_text_families': "text_hash in (select text_hash from @int_texts_regrouped)",
        'int_posts_clustered': "family in (select family from @int_families_changed)"
            ~ " or post_uid in (select post_uid from @int_posts_delta_keys)",
        'int_terms_counted_daily': by_direct_content_date,
        'int_misinfo_daily': by_direct_date,
        'sentiment_daily': by_direct_content_date,
        'emotion_daily': by_direct_content_date,
        'topic_daily': by_content_date,
        'trending_terms': by_content_date,
        'int_emerging_term_clusters': by_content_date,
        'emerging_stories': by_date,
        'int_emerging_post_terms': "activity_date in (select distinct cast(activity_date - to_days(cast(m.k as integer)) as date)"
            ~ " from @int_affected_dates, range(0, " ~ baseline ~ " + 1) as m(k) where content)",
        'author_edges': "day in (select created_date from @int_edges_affected_posts where edges_changed"
            ~ " union select old_created_date from @int_edges_affected_posts where edges_changed)",
        'authors': "author_key in (select author_key from @int_affected_authors)",
        'domains': "coalesce(registered_domain, '') in (select registered_domain from @int_affected_domains)",
    }) }}
{%- endmacro %}


{#- The scope predicate of ``relation`` on this night ('' for none). -#}
{% macro incremental_test_scope(relation) -%}
    {%- if not execute or not incremental_night() or relation is string or relation.identifier is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set predicate = incremental_test_scopes().get(relation.identifier) -%}
    {%- if predicate is none -%}
        {{ return('') }}
    {%- endif -%}
    {#- Longest names first: none of them is a prefix of another today, and this keeps it so. -#}
    {%- set ns = namespace(predicate=predicate) -%}
    {%- for name in ['int_edges_affected_posts', 'int_affected_domains', 'int_affected_authors',
                     'int_families_changed', 'int_texts_regrouped', 'int_posts_delta_keys',
                     'int_texts_changed', 'int_posts_affected', 'int_affected_dates'] -%}
        {%- if ('@' ~ name) in ns.predicate -%}
            {%- set ns.predicate = ns.predicate | replace('@' ~ name, graph.nodes['model.discourse.' ~ name].relation_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ns.predicate) }}
{%- endmacro %}


{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = incremental_test_scope(relation) -%}
    {%- set clauses = [] -%}
    {%- for c in [where, scope] if c -%}
        {%- do clauses.append('(' ~ c ~ ')') -%}
    {%- endfor -%}
    {%- if clauses -%}
        {%- set alias = 'dbt_subquery' if relation is string or not relation.identifier else relation.identifier -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ clauses | join(' and ') }}) as {{ adapter.quote(alias) }}
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

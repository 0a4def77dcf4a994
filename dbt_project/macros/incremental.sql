{#-
    Incremental nights (docs/incremental.md).

    The runner (`discourse.transform.increments`) compares the lake's batches with the ones the build
    warehouse was last built from, writes the difference to a JSON file and passes the file's path as
    the var `night_batches`:

    * `delta_batches`: batches new since the last build, or re-mapped (their manifest changed);
    * `gone_batches`: batches the last build read that are no longer in the lake (rejected), or whose
      manifest changed (re-mapped: their old rows go, their new rows come back through delta_batches).

    The batch ids are read from the file when a model runs, not passed as vars: dbt parses the whole
    project again whenever the command line's vars change (about 4 s a night), and the path is the
    same every night.

    Without `night_batches` (var unset) the build is a full one: `--full-refresh`, every model reads
    everything. With it, post-level models delete the rows of the affected posts
    (`int_posts_affected`; the models of what a post says, only those whose lake rows changed,
    `int_posts_delta_keys`) and insert them again from `int_posts_delta`; daily marts do the same for
    the affected dates (`int_affected_dates`), and `authors` / `domains` for the affected keys.
-#}

{% macro incremental_night() -%}
    {{- return(var('night_batches', none) is not none) -}}
{%- endmacro %}


{#- The batch ids of one list of the night's file (`delta_batches`, `gone_batches`), as a SQL list of
    string literals ('' when empty, which matches nothing; also while dbt parses). -#}
{% macro batch_list(name) -%}
    {%- set path = var('night_batches', none) -%}
    {%- if not execute or path is none -%}
        ''
    {%- else -%}
        {%- set query -%}
            select unnest({{ name }}) as batch_id from read_json('{{ path | replace("'", "''") }}',
                columns = {delta_batches: 'varchar[]', gone_batches: 'varchar[]'}) order by 1
        {%- endset -%}
        {%- set ids = run_query(query).columns[0].values() -%}
        {%- if ids | length == 0 -%}
            ''
        {%- else -%}
            {%- for b in ids -%}'{{ b | replace("'", "''") }}'{{ "," if not loop.last }}{%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- A relation of the build warehouse that dbt does not manage through `ref` here (reading it with
    `ref` would be a cycle): the mart as the previous night left it. None when it does not exist. -#}
{% macro previous_relation(schema, identifier) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}


{#- The posts a post-level model rewrites on an incremental night: every affected post
    (`int_posts_affected`), or with `content` only those whose lake rows changed
    (`int_posts_delta_keys`). A model of what a post says (language, tokens, sentiment, emotion,
    topics, terms, claims, links, stated edges) passes `content=true`: a post whose coordination
    figures alone changed (a late post joined its cluster) says what it said, and its rows stay. The
    ref is taken while dbt parses too, so the model depends on the key relation. -#}
{% macro night_post_keys(content=false) -%}
    {%- set keys = ref('int_posts_delta_keys') if content else ref('int_posts_affected') -%}
    {{- return(keys) -}}
{%- endmacro %}


{#- The post rows a post-level model reads: on an incremental night the posts whose lake rows
    changed (`int_posts_delta`), all of them otherwise. Models using it carry
    `-- depends_on: {{ ref('int_posts_delta') }}`. -#}
{% macro posts_to_enrich() -%}
    {%- if is_incremental() -%}
        {{ ref('int_posts_delta') }}
    {%- else -%}
        {{ ref('stg_lake__posts') }}
    {%- endif -%}
{%- endmacro %}


{#- `where`/`and` clause keeping only affected posts (with `content`, those whose lake rows changed)
    of an incremental model's history input; with `parts` > 1, only those of part 0 too (a model
    built in parts: macros/post_parts.sql). -#}
{% macro affected_posts_only(column='post_uid', keyword='where', parts=1, content=false) -%}
    {%- set keys = night_post_keys(content) -%}
    {%- if is_incremental() -%}
        {{ keyword }} {{ column }} in (select post_uid from {{ keys }})
        {{ post_part_filter(column, parts, 'and') }}
    {%- else -%}
        {{ post_part_filter(column, parts, keyword) }}
    {%- endif -%}
{%- endmacro %}


{#- `where`/`and` clause of a table rebuilt every run (not incremental, so `is_incremental()` is
    always false in it) that holds the affected posts only on an incremental night. -#}
{% macro night_posts_only(column='post_uid', keyword='where') -%}
    {%- if incremental_night() -%}
        {{ keyword }} {{ column }} in (select post_uid from {{ ref('int_posts_affected') }})
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of a post-level incremental model: remove the affected posts' rows (with `content`,
    those of the posts whose lake rows changed). -#}
{% macro delete_affected_posts(column='post_uid', content=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} in (select post_uid from {{ night_post_keys(content) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- The `where` of `int_affected_dates` for a daily model: all its dates, the `direct` ones, or with
    `content` only those of posts whose lake rows changed (see int_affected_dates.sql). -#}
{% macro affected_dates_where(direct=false, content=false) -%}
    {%- if content and direct -%} where content_direct
    {%- elif content -%} where content
    {%- elif direct -%} where direct
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of a daily incremental model: remove the rows of the dates it recomputes. `direct` only
    the dates affected posts were or are on; otherwise also the days whose trailing baseline or
    calendar they change. `content`: only for posts whose lake rows changed (a model of what posts
    say, not of their coordination figures). -#}
{% macro delete_affected_dates(column='activity_date', direct=false, content=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} in (
            select activity_date from {{ ref('int_affected_dates') }} {{ affected_dates_where(direct, content) }}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of `marts.posts`: the posts whose coordination figures alone changed (affected, their
    lake rows not) keep their row and take their new cluster and misinformation columns from
    `int_posts_signals`, the only ones a cluster changes (`int_posts_scored_misinfo` reads the
    cluster; every other signal is of the post's own text and links). -#}
{% macro update_coordination_only_posts() -%}
    {%- if is_incremental() -%}
        update {{ this }} as p
        set cluster_id = g.cluster_id,
            misinfo_risk_score = g.misinfo_risk_score,
            misinfo_risk_level = g.misinfo_risk_level,
            misinfo_reasons = g.misinfo_reasons
        from {{ ref('int_posts_signals') }} as g
        where g.post_uid = p.post_uid
            and g.post_uid not in (select post_uid from {{ ref('int_posts_delta_keys') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- `where`/`and` clause: only the dates being recomputed (see delete_affected_dates). -#}
{% macro affected_dates_only(column, direct=false, keyword='where', margin_days=0, content=false) -%}
    {%- if is_incremental() -%}
        {%- if margin_days -%}
            {#- Each affected date and the `margin_days` days before it (a set, not the range from the
                first to the last: late posts on a few old dates do not recompute everything since). -#}
            {{ keyword }} {{ column }} in (
                select distinct cast(activity_date - to_days(cast(m.k as integer)) as date)
                from {{ ref('int_affected_dates') }}, range(0, {{ margin_days }} + 1) as m(k)
                {{ affected_dates_where(direct, content) }}
            )
        {%- else -%}
            {{ keyword }} {{ column }} in (
                select activity_date from {{ ref('int_affected_dates') }} {{ affected_dates_where(direct, content) }}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The rows of `int_posts_clustered` an incremental night rewrites: those of the text families it
    recomputes (`int_families_changed`) and of the posts whose lake rows changed. Its pre-hook copies
    them into `int_posts_clustered_previous` (`save_rows`, macros/coordination.sql) before deleting
    them, so `int_posts_affected` can tell whose coordination figures changed. That table always
    exists after the hook (empty on a full build), so `int_posts_affected` names it directly: a table
    made by a hook is not in dbt's relation cache, so `adapter.get_relation` would not see it. -#}
{% macro clustered_rows_rewritten() -%}
    family in (select family from {{ ref('int_families_changed') }})
    or post_uid in (select post_uid from {{ ref('int_posts_delta_keys') }})
{%- endmacro %}


{#- The columns of `int_posts_clustered_previous` (those of `int_posts_clustered`). -#}
{% macro previous_clusters_columns() -%}
    post_uid varchar, cluster_id varchar, family uhugeint, first_seen_at timestamp with time zone,
    last_seen_at timestamp with time zone, n_posts bigint, n_accounts bigint, platforms varchar[],
    span_minutes integer, coordination_score double
{%- endmacro %}

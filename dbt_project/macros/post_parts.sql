{#-
    Post-level models built in parts (docs/scaling.md, "Under a memory limit").

    A few post-level models hold their whole set of posts in memory at once: the per-post lists of
    `int_posts_tagged_topics`, the token rules of `int_posts_scored_sentiment`, the edges of
    `int_post_edges` joined with their posts' lists, the term matches of `int_emerging_post_terms`,
    the sample lists of `author_edges` (in parts of whole days: its groups are per day). On a first
    build over 10M posts each ran out of a 1.8 GiB DuckDB limit, while 2.5M posts of the topics query
    fit it. Such a model filters its input with `post_part_filter` (through
    `affected_posts_only(parts=…)` where it reads affected posts) and carries the post-hook
    `insert_post_parts()`:

    * `post_part_count(relation, incremental_relation)` is how many parts: the rows the model reads
      (on an incremental night `incremental_relation`, by default the affected posts; on a full
      build all of `relation`; either may be a parenthesised query) divided by
      `DISCOURSE_DBT_PART_POSTS` (settings `dbt_part_posts`, default 1,000,000; 0 never splits),
      rounded up. 1 part is the model as it always was.
    * With k > 1 parts the model's own statement builds part 0: the posts whose `hash(post_uid) % k`
      is 0. The post-hook then inserts parts 1 … k-1, one statement each, from the same compiled SQL
      with the part number changed, inside the model's transaction. Each post is in exactly one part
      and every row of these models belongs to one post, so the table is the same as one statement
      would build; the incremental invariant tests build with tiny parts to show it.
    * Only models whose rows do not depend on the other parts can be built so: no numbering of
      posts across the table (`int_sentiment_tokens_normalised`'s `post_key`), no aggregate over
      posts.

    The part number lives in the compiled SQL as `% k = /*post_part*/0`, which the hook reads back
    (k included), so the hook never recounts and cannot disagree with the statement.
-#}

{% macro post_part_count(relation, incremental_relation=none) -%}
    {%- if not execute -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set size = env_var('DISCOURSE_DBT_PART_POSTS', '1000000') | int -%}
    {%- if size <= 0 -%}
        {{ return(1) }}
    {%- endif -%}
    {%- if is_incremental() -%}
        {%- set counted = incremental_relation or ref('int_posts_affected') -%}
    {%- else -%}
        {%- set counted = relation -%}
    {%- endif -%}
    {#- a unit test's inputs are CTEs of its own query, not relations to count: one part -#}
    {%- if '__dbt__cte__' in (counted | string) or model.resource_type == 'unit_test' -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set n = run_query('select count(*) from ' ~ counted).columns[0].values()[0] | int -%}
    {{ return([1, (n + size - 1) // size] | max) }}
{%- endmacro %}


{#- The part filter of part 0 of `parts` after `keyword` (`where`, `and`); nothing for one part. The
    hook rewrites the part number. `column` is what the parts are made of: `post_uid`, or a column
    every group of the model shares. -#}
{% macro post_part_filter(column, parts, keyword) -%}
    {%- if parts > 1 -%}
        {{ keyword }} hash({{ column }}) % {{ parts }} = /*post_part*/0
    {%- endif -%}
{%- endmacro %}


{#- Post-hook: parts 1 … k-1 of a model built in parts, one insert each. -#}
{% macro insert_post_parts() -%}
    {%- if execute -%}
        {%- set code = model.compiled_code -%}
        {%- set found = modules.re.search('% (\\d+) = /\\*post_part\\*/0', code) -%}
        {%- if found -%}
            {%- set parts = found.group(1) | int -%}
            {%- for i in range(1, parts) -%}
                {%- set part_sql = code.replace('/*post_part*/0', '/*post_part*/' ~ i) -%}
                {%- do run_query('insert into ' ~ this ~ ' by name (' ~ part_sql ~ ')') -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

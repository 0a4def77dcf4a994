{#-
    The distinct texts of the current fingerprints with their MinHash signatures, one row per
    `text_hash` (the nodes of the text graph, see `int_posts_clustered`). On an incremental night
    the texts of `int_texts_changed` are deleted and those still present inserted again.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_rows('text_hash in (select text_hash from ' ~ ref('int_texts_changed') ~ ')') }}",
) }}
/* depends_on: {{ ref('int_texts_changed') }} */

{%- if is_incremental() %}

select text_hash, minhash from {{ ref('int_texts_changed') }} where present

{%- else %}

select distinct text_hash, minhash from {{ ref('int_posts_fingerprinted') }}

{%- endif %}

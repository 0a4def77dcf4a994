{#-
    The MinHash band buckets of every text (`int_texts`): one row per text and band, `bucket` a hash
    of the band's `coordination_minhash_rows` slots and the band number. Texts sharing a bucket are
    the candidate near-duplicates (`int_text_links`).

    On an incremental night the rows of the texts of `int_texts_changed` are copied into
    `int_text_buckets_removed` and deleted; the texts still present are inserted again. The buckets of
    both are the ones whose links `int_text_links` recomputes.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ save_rows('int_text_buckets_removed', 'text_hash in (select text_hash from ' ~ ref('int_texts_changed') ~ ')', 'text_hash uhugeint, band bigint, bucket ubigint') }}",
        "{{ delete_rows('text_hash in (select text_hash from ' ~ ref('int_texts_changed') ~ ')') }}",
    ],
) }}
/* depends_on: {{ ref('int_texts_changed') }} */

{%- if is_incremental() %}

{{ text_buckets('(select text_hash, minhash from ' ~ ref('int_texts_changed') ~ ' where present)') }}

{%- else %}

{{ text_buckets(ref('int_texts')) }}

{%- endif %}

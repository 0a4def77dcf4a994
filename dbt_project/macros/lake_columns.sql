{#- Column types of the lake tables, for the empty-lake fallback in lake_relation. Generated from
    ingest.schema by `python -m discourse.transform.codegen`; do not edit. -#}

{% macro lake_post_columns() -%}
    {{ return({
        'post_uid': 'varchar', 'platform': 'varchar', 'post_id': 'varchar', 'created_at': 'timestamptz',
        'author_handle': 'varchar', 'text': 'varchar', 'lang_declared': 'varchar', 'kind': 'varchar',
        'reply_to_id': 'varchar', 'thread_id': 'varchar', 'repost_of_id': 'varchar',
        'quote_of_id': 'varchar', 'reply_to_author_key': 'varchar', 'repost_of_author_key': 'varchar',
        'quote_of_author_key': 'varchar',
        'mention_keys': 'struct(author_key varchar, by_handle boolean)[]', 'url': 'varchar',
        'like_count': 'bigint', 'share_count': 'bigint', 'reply_count': 'bigint',
        'view_count': 'bigint', 'hashtags': 'varchar[]', 'mentions': 'varchar[]', 'links': 'varchar[]',
        'media_count': 'integer', 'raw': 'varchar', 'author_key': 'varchar', 'source_file': 'varchar',
        'source_record': 'bigint', 'export_format': 'varchar', 'batch_id': 'varchar',
        'ingested_at': 'timestamptz', 'created_date': 'date'
    }) }}
{%- endmacro %}


{% macro lake_quarantine_columns() -%}
    {{ return({
        'source_file': 'varchar', 'source_record': 'bigint', 'raw': 'varchar', 'error': 'varchar',
        'platform': 'varchar', 'export_format': 'varchar', 'batch_id': 'varchar',
        'ingested_at': 'timestamptz'
    }) }}
{%- endmacro %}


{% macro lake_manifest_columns() -%}
    {{ return({
        'batch_id': 'varchar', 'source_file': 'varchar', 'source_path': 'varchar',
        'source_member': 'varchar', 'source_size': 'bigint', 'compression': 'varchar',
        'export_format': 'varchar', 'platform': 'varchar', 'records_in': 'bigint', 'loaded': 'bigint',
        'quarantined': 'bigint', 'duplicates_within_batch': 'bigint', 'skipped': 'json',
        'skipped_total': 'bigint', 'ingested_at': 'timestamptz', 'seconds': 'double',
        'pseudonymised': 'boolean'
    }) }}
{%- endmacro %}

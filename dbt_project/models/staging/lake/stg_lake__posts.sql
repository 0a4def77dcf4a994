{#-
    Canonical posts, typed and deduplicated across batches: when the same post_uid arrives in several
    exports, the copy with the newest ingested_at wins (ties: the greatest batch_id, so the choice is
    deterministic). Within a batch the lake writer already removed duplicates. The typing and the
    deduplication are `lake_posts_current` (macros/lake_posts.sql), which incremental nights also use
    on the few lake files that hold the night's posts (`lake_posts_of`).
-#}

{{ lake_posts_current(lake_relation('lake', 'posts', lake_post_columns())) }}

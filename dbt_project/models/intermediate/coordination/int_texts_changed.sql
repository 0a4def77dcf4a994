{#-
    The texts an incremental night touches (T): the text of every fingerprint row it deleted
    (`int_posts_fingerprinted_removed`, made by `int_posts_fingerprinted`'s pre-hook) or inserted
    (the rows of `int_posts_delta_keys`), with its signature and whether any post still has it
    (`present`). Only these texts can appear or disappear tonight, so only their buckets change.
    Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_delta_keys') }} */
/* depends_on: {{ ref('int_posts_fingerprinted') }} */

{%- if incremental_night() %}

with

touched as (

    -- the current signature first (it is the same for one text unless the code changed)
    select text_hash, arg_min(minhash, source) as minhash
    from (
        select text_hash, minhash, 0 as source
        from {{ ref('int_posts_fingerprinted') }}
        where post_uid in (select post_uid from {{ ref('int_posts_delta_keys') }})
        union all
        select text_hash, minhash, 1 as source
        from {{ ref('int_posts_fingerprinted').schema }}.int_posts_fingerprinted_removed
    )
    group by text_hash

),

still_present as (

    select distinct t.text_hash
    from touched as t
    inner join {{ ref('int_posts_fingerprinted') }} as f
        on f.text_hash = t.text_hash

)

select
    t.text_hash,
    t.minhash,
    t.text_hash in (select text_hash from still_present) as present
from touched as t

{%- else %}

select null::uhugeint as text_hash, null::ubigint[] as minhash, null::boolean as present where false

{%- endif %}

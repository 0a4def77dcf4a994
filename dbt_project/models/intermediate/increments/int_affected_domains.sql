{#-
    The registered domains whose sites `domains` recomputes on an incremental night: those the
    affected posts linked to before the night and after it ('' stands for links without one).
    Empty on a full build.
-#}

/* depends_on: {{ ref('int_posts_affected') }} */
/* depends_on: {{ ref('int_post_links_parsed') }} */

{%- if incremental_night() %}

select distinct coalesce(registered_domain, '') as registered_domain
from (
    select unnest(old_link_domains) as registered_domain
    from {{ ref('int_posts_affected') }}
    where old_link_domains is not null
    union all
    select registered_domain
    from {{ ref('int_post_links_parsed') }}
    where post_uid in (select post_uid from {{ ref('int_posts_affected') }})
)

{%- else %}

select null::varchar as registered_domain where false

{%- endif %}

{#-
    The trained misinformation text model, when one exists (discourse.transform.misinfo_train,
    docs/misinformation.md): var `misinfo_text_model` when set, else
    `$DISCOURSE_REFERENCE/misinfo_text_model.parquet`. `source = 'term'` rows are a term's weight (the
    log-odds of "rated false" it adds), the `source = 'param'` row `bias` is the intercept, and the
    `source = 'name'` row names the training set in `term`. Empty without a model file: the shipped
    score is then unchanged.
-#}

{%- set path = (var('misinfo_text_model', none)
                or (env_var('DISCOURSE_REFERENCE', '') ~ '/misinfo_text_model.parquet')) | replace("'", "''") -%}

select
    term,
    weight,
    source
from
{%- if execute and lake_has_files(path) %}
    (select term, weight, source from read_parquet('{{ path }}'))
{%- else %}
    (select cast(null as varchar) as term, cast(null as double) as weight, cast(null as varchar) as source
     where false)
{%- endif %}
where term is not null and weight is not null and isfinite(weight)

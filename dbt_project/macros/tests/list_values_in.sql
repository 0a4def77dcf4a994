{#- Rows whose list column holds an element outside `values`, or outside `to`.`field` when given. -#}
{% test list_values_in(model, column_name, values=none, to=none, field=none) %}

with

elements as (

    select unnest({{ column_name }}) as element
    from {{ model }}

)

select element as failing_value
from elements
where element is not null
{%- if values is not none %}
  and element not in (
      {%- for v in values %}'{{ v | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
  )
{%- endif %}
{%- if to is not none %}
  and element not in (select {{ field }} from {{ to }})
{%- endif %}

{% endtest %}

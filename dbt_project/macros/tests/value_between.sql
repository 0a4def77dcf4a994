{#- Rows whose value lies outside [min_value, max_value] (bounds inclusive unless told otherwise). -#}
{% test value_between(model, column_name, min_value=none, max_value=none,
                      min_inclusive=true, max_inclusive=true) %}

select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and (
      false
      {%- if min_value is not none %}
      or {{ column_name }} {{ "<" if min_inclusive else "<=" }} {{ min_value }}
      {%- endif %}
      {%- if max_value is not none %}
      or {{ column_name }} {{ ">" if max_inclusive else ">=" }} {{ max_value }}
      {%- endif %}
  )

{% endtest %}

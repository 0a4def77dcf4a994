{#- Rows for which a SQL boolean expression is not true (optionally only where `where_sql` holds). -#}
{% test expression_is_true(model, expression, column_name=none, where_sql=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where_sql %}
  and ({{ where_sql }})
{%- endif %}

{% endtest %}

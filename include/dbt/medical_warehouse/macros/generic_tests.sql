{#- Generic tests written here because dbt packages (dbt_utils) cannot be installed from this network. -#}

{#- No value below zero (null is allowed: Telegram exports carry no view counts). -#}
{% test not_negative(model, column_name) %}
    select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{% endtest %}

{#- One value of the column per group, e.g. one image_category per photo. -#}
{% test single_value_per_group(model, column_name, group_by) %}
    select {{ group_by | join(', ') }}
    from {{ model }}
    group by {{ group_by | join(', ') }}
    having count(distinct {{ column_name }}) > 1
{% endtest %}

{#- No null in any of the columns, in one scan of a big table instead of a not_null test per column. -#}
{% test not_null_columns(model, columns) %}
    select {{ columns | join(', ') }} from {{ model }}
    where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}

{#- No two rows share the combination of columns. -#}
{% test unique_combination(model, combination) %}
    select {{ combination | join(', ') }}
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Every value within [min_value, max_value] (null is allowed), e.g. a price no shop would ask is a misread. -#}
{% test between(model, column_name, min_value, max_value) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}

{#- Every value matches the regular expression (PostgreSQL's ~), e.g. a channel's @username. -#}
{% test matches_pattern(model, column_name, pattern) %}
    select {{ column_name }} from {{ model }} where {{ column_name }} !~ '{{ pattern }}'
{% endtest %}

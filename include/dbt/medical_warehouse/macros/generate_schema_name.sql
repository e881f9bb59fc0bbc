{#- Schemas are exactly the names the folders give (staging, marts), not dbt's default
    "<target schema>_<custom schema>": the API and the quality checks rely on these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

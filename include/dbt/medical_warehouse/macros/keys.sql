{#- The warehouse's surrogate keys, defined once (docs/architecture.md, "Contracts"). Message ids are unique only
    within a channel, so every message key includes the channel. -#}

{% macro channel_key(channel_name) -%}
    md5({{ channel_name }})
{%- endmacro %}

{% macro message_key(channel_name, message_id) -%}
    md5({{ channel_name }} || '-' || {{ message_id }}::text)
{%- endmacro %}

{#- YYYYMMDD of the instant's UTC date, whatever the session's time zone. -#}
{% macro date_key(instant) -%}
    to_char(({{ instant }} at time zone 'UTC')::date, 'YYYYMMDD')::integer
{%- endmacro %}

{% macro utc_date(instant) -%}
    ({{ instant }} at time zone 'UTC')::date
{%- endmacro %}

{#- Plain text as analysts want it: one newline style, no non-breaking or zero-width spaces, no spaces at
    line ends, trimmed. Telegram clients add all of these. translate() maps the first four characters
    (three kinds of non-breaking space, a lone carriage return) and deletes the zero-width ones after them. -#}
{% macro clean_text(column) -%}
    btrim(
        regexp_replace(
            translate(
                replace(coalesce({{ column }}, ''), E'\r\n', E'\n'),
                U&'\00A0\2007\202F' || E'\r' || U&'\200B\200C\200D\FEFF',
                '   ' || E'\n'),
            E'[ \t]+(\n|$)', E'\\1', 'g'),
        E' \t\n')
{%- endmacro %}

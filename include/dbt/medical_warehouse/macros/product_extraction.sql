{#- Product and price extraction, shared by fct_product_mentions and its unit tests. All patterns work on
    lower-cased text and use ASCII word boundaries ([a-z0-9]) so they behave the same under every database
    locale; Amharic aliases therefore also match after an Amharic prefix (የ-, ለ-, በ-), which is wanted. -#}

{#- Text normalised for matching products: case, apostrophes, "&", spacing around "+", "omega-3" spellings,
    and dose and pack size removed ("5MG", "2.2kg", "237 ML", "75%") or reduced to the form ("60 GUMMIES" ->
    "gummies"), so "PRENATAL 60 GUMMIES" and "prenatal 90 gummies" name the same product. Lexicon aliases go
    through the same function, so an editor writes them as they appear in posts. -#}
{% macro normalise_product_text(column) -%}
    btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        -- typographic apostrophes and dashes (replace() is much cheaper than translate() on UTF-8 text)
        replace(replace(replace(replace(replace(replace(replace(lower({{ column }}),
            U&'\2019', chr(39)), U&'\2018', chr(39)), U&'\0060', chr(39)), U&'\00B4', chr(39)), U&'\2013', '-'),
            U&'\2014', '-'), '&', ' and '),
        -- dose and size: a number with a unit
        '(?<![a-z0-9.,])[0-9]+(?:[.,][0-9]+)?\s*(?:mg|mcg|g|gm|gms|gr|grams?|kg|ml|l|ltr|litres?|liters?|oz|iu|%)(?![a-z0-9])', ' ', 'g'),
        -- pack size: the count before a dosage form
        '(?<![a-z0-9.,])[0-9]+\s*(?=(?:pcs|pieces|tablets?|tabs?|capsules?|caps|softgels?|gummies|chewables?|chewing|liquid gels?|sachets?|drops?|count|ct)(?![a-z]))', '', 'g'),
        '[ \t]*\+[ \t]*', '+', 'g'),
        '(?<![a-z])omega[ -]?3', 'omega3', 'g'),
        '([a-z])-([a-z])', '\1 \2', 'g'),
        -- runs of blanks (single spaces are left alone: replacing each one is costly)
        '[ \t][ \t]+|\t', ' ', 'g'))
{%- endmacro %}

{#- Text for price extraction: lower case, without the lines about delivery fees ("የትራንስፖርት አማራጭ ከ70 - 500 ብር",
    "fees are from 70 birr -500 birr") and without any other range of amounts, which are fees, not prices. -#}
{% macro price_text(column) -%}
    regexp_replace(regexp_replace(
        lower({{ column }}),
        '[^\n]*(?:deliver|transport|ትራንስፖርት|ዴሊቨሪ|ማድረሻ|shipping)[^\n]*', ' ', 'g'),
        '[0-9][0-9,.]*\s*(?:birr|etb|br|ብር)?\s*(?:-|–|—|to)\s*[0-9][0-9,.]*\s*(?:birr|etb|br|ብር)?', ' ', 'g')
{%- endmacro %}

{#- Amounts in birr: "price 5000 birr", "price: 7500", "ዋጋ 2,450 ብር", "900 etb", "etb 900". Three capture groups,
    one per form; extract with price_amount(match). -#}
{% macro price_pattern() -%}
    '(?<![a-z])(?:price|ዋጋ|cost)\s*(?:is)?\s*[:=-]?\s*(?:etb|birr|br\.?|ብር)?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?\s*(?:birr|etb|br|ብር)?|([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?\s*(?:birr|etb|ብር|br)(?![a-z])|(?<![a-z])(?:etb|birr)\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)'
{%- endmacro %}

{% macro price_amount(match) -%}
    replace(coalesce({{ match }}[1], {{ match }}[2], {{ match }}[3]), ',', '')::numeric
{%- endmacro %}

{#- An alias as a regular-expression literal (PostgreSQL has no regexp_quote). -#}
{% macro regex_escape(column) -%}
    regexp_replace({{ column }}, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g')
{%- endmacro %}

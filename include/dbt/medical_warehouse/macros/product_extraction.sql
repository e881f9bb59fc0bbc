{#- Product, size and price extraction, shared by fct_product_mentions, dim_products and their unit tests. All
    patterns work on lower-cased text and use ASCII word boundaries ([a-z0-9]) so they behave the same under every
    database locale; Amharic aliases therefore also match after an Amharic prefix (የ-, ለ-, በ-), which is wanted. -#}

{% macro size_units() -%}
    {{- return({
        'pack_size': 'ml|ሚ\\.ሊ|ሚሊ|litres?|liters?|ltr|l|ሊትር|kg|ኪሎ|grams?|gms|gm|gr|g|ግራም|oz',
        'strength': 'mcg|mg|ሚ\\.ግ|ሚግ|iu',
        'pack_count': 'pcs|pieces|tablets?|tabs?|capsules?|caps|softgels?|gummies|chewables?|chewing|liquid gels?|sachets?|count|ct|ፍሬ|ኪኒን',
    }) -}}
{%- endmacro %}

{#- The text posts are read from: lower case, the lines about delivery fees gone ("የትራንስፖርት አማራጭ ከ70 - 500 ብር",
    "fees are from 70 birr -500 birr"), and cut into segments: its lines, and a line after each amount with its
    currency ("Nivea lotion 850 birr, Dove soap 120 birr" is two). A price belongs to the products of its
    segments (see fct_product_mentions). Newlines survive every later normalisation, so segment n is line n of
    every text derived from this one. -#}
{% macro segmented_text(column) -%}
    regexp_replace(regexp_replace(
        lower({{ column }}),
        '[^\n]*(?:deliver|transport|ትራንስፖርት|ዴሊቨሪ|ማድረሻ|shipping)[^\n]*', ' ', 'g'),
        -- not inside "2025 birr 750", "from 2,000 birr to 1,600 birr", "2,400 birr ❌"
        '([0-9]\s*(?:birr|etb|ብር|br\.?)(?![a-z]))(?!\s*(?:[0-9]|-|–|—|to(?![a-z])|ወደ|❌|✖))', E'\\1\n', 'g')
{%- endmacro %}

{#- Text normalised for matching names: apostrophes, "&", spacing around "+", "omega-3" spellings, and dose and
    pack size removed ("5MG", "2.2kg", "237 ML", "75%", "500 ሚ.ግ") or reduced to the form ("60 GUMMIES" -> "gummies"),
    so "PRENATAL 60 GUMMIES" and "prenatal 90 gummies" name the same product. Lexicon aliases go through the same
    function, so an editor writes them as they appear in posts. Spaces only, never newlines, are touched. -#}
{% macro normalise_product_text(column) -%}
    btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        -- typographic apostrophes and dashes (replace() is much cheaper than translate() on UTF-8 text)
        replace(replace(replace(replace(replace(replace(replace(lower({{ column }}),
            U&'\2019', chr(39)), U&'\2018', chr(39)), U&'\0060', chr(39)), U&'\00B4', chr(39)), U&'\2013', '-'),
            U&'\2014', '-'), '&', ' and '),
        -- dose and size: a number with a unit
        '(?<![a-z0-9.,])[0-9]+(?:[.,][0-9]+)?[ \t]*(?:{{ size_units()['pack_size'] }}|{{ size_units()['strength'] }}|%)(?![a-z0-9])', ' ', 'g'),
        -- pack size: the count before a dosage form
        '(?<![a-z0-9.,])[0-9]+[ \t]*(?=(?:{{ size_units()['pack_count'] }}|drops?)(?![a-z]))', '', 'g'),
        '[ \t]*\+[ \t]*', '+', 'g'),
        '(?<![a-z])omega[ -]?3', 'omega3', 'g'),
        '([a-z])-([a-z])', '\1 \2', 'g'),
        -- runs of blanks (single spaces are left alone: replacing each one is costly)
        '[ \t][ \t]+|\t', ' ', 'g'), ' ')
{%- endmacro %}

{#- Sizes of a segment (lower case), the first of each kind: pack size "400 ml" / "2.2 kg" / "454 g", strength
    "500 mg" / "5000 iu", pack count 60 ("60 gummies", "100 ኪኒን"). -#}
{% macro pack_size(column) -%}
    {{ _size(column, size_units()['pack_size']) }}
{%- endmacro %}

{% macro strength(column) -%}
    {{ _size(column, size_units()['strength']) }}
{%- endmacro %}

{% macro _size(column, units) -%}
    {#- Units as posts write them (English and Amharic), each to one canonical spelling. -#}
    {%- set canonical = {
        'ml': 'ml', 'ሚሊ': 'ml', 'ሚ.ሊ': 'ml', 'l': 'l', 'ltr': 'l', 'litre': 'l', 'liter': 'l', 'litres': 'l',
        'liters': 'l', 'ሊትር': 'l', 'g': 'g', 'gm': 'g', 'gms': 'g', 'gr': 'g', 'gram': 'g', 'grams': 'g',
        'ግራም': 'g', 'kg': 'kg', 'ኪሎ': 'kg', 'oz': 'oz', 'mg': 'mg', 'ሚ.ግ': 'mg', 'ሚግ': 'mg', 'mcg': 'mcg', 'iu': 'iu',
    } -%}
    (select replace(found[1], ',', '.') || ' ' || case found[2]
            {%- for spelling, unit in canonical.items() %} when '{{ spelling }}' then '{{ unit }}'{% endfor %}
            else found[2] end
     from regexp_match({{ column }}, '(?<![a-z0-9.,])([0-9]+(?:[.,][0-9]+)?)\s*({{ units }})(?![a-z0-9])') as found)
{%- endmacro %}

{% macro pack_count(column) -%}
    (regexp_match({{ column }}, '(?<![a-z0-9.,])([0-9]+)\s*(?:{{ size_units()['pack_count'] }})(?![a-z])'))[1]::integer
{%- endmacro %}

{#- Amounts in birr, one match per amount. Capture groups:
    1 a marker that the amount is the old price ("old price", "was", "የቀድሞ ዋጋ"), or 8 one after it ("2,400 birr ❌");
    2, 3 "from A to B" ("2,000 birr to 1,600 birr", "ከ1,500 ብር ወደ 1,200 ብር", "900-750 birr"): a reduction when
      B < A (B is the price), otherwise a range of amounts (a fee, not a price); not after a letter or "x"
      ("10x10 - 180 birr" is a pack of 10x10 at 180 birr);
    4 after a price word: "price 5000 birr", "price: 7500", "ዋጋ፡ 2,450 ብር" (not "price 1,500 - 2,500 birr", a range);
    5 before a currency: "900 etb", "1,200 ብር", except a year that precedes "birr <amount>" ("2025 birr 750");
    6 after a currency: "etb 900", "birr 750";
    7 a year marker after the amount ("2017 e.c.", "2018 ዓ.ም"): the amount is a year. -#}
{% macro price_pattern() -%}
    {%- set amount = "([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?![0-9]|,[0-9])(?:\.[0-9]+)?" -%}
    {%- set currency = "(?:birr|etb|ብር|br\.?)" -%}
    {%- set range_follows = "(?!\s*" ~ currency ~ "?\s*(?:-|–|—|to|ወደ)\s*ከ?[0-9])" -%}
    '(?:(old\s*price|was|before|የቀድሞ\s*ዋጋ|የቀድሞ|ቀድሞ)\s*[:=፡-]?\s*)?(?:'
    || '(?<![0-9a-z.,/]){{ amount }}\s*{{ currency }}?\s*(?:-|–|—|to|ወደ)\s*ከ?{{ amount }}\s*{{ currency }}(?![a-z])'
    || '|(?<![a-z])(?:price|ዋጋ|cost)\s*(?:is)?\s*[:=፡-]?\s*{{ currency }}?\s*{{ amount }}{{ range_follows }}(?:\s*{{ currency }}(?![a-z]))?'
    || '|(?!(?:19|20)[0-9]{2}\s*{{ currency }}\s*[0-9])(?<![0-9,.]){{ amount }}\s*{{ currency }}(?![a-z])'
    || '|(?<![a-z])(?:etb|birr|ብር)\s*{{ amount }}'
    || ')(\s*(?:e\.?\s*c\.?|g\.?\s*c\.?|ዓ\.?\s*ም|ዓ/ም)(?![a-z]))?(\s*[❌✖])?'
{%- endmacro %}

{#- The amount of a price_pattern() match, or null when it is none: a range, a year, a phone number (written with
    a leading 0: "0911223344"), or beyond any shop's price (over a million birr). -#}
{% macro price_amount(match) -%}
    case
        when {{ match }}[7] is not null then null
        when {{ match }}[2] is not null then
            case when replace({{ match }}[3], ',', '')::numeric < replace({{ match }}[2], ',', '')::numeric
                then replace({{ match }}[3], ',', '')::numeric end
        when coalesce({{ match }}[4], {{ match }}[5], {{ match }}[6]) ~ '^0' then null
        when replace(coalesce({{ match }}[4], {{ match }}[5], {{ match }}[6]), ',', '')::numeric
            between 1 and 1000000
            then replace(coalesce({{ match }}[4], {{ match }}[5], {{ match }}[6]), ',', '')::numeric
    end
{%- endmacro %}

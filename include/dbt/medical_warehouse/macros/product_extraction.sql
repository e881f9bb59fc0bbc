{#- Product, size and price extraction, shared by fct_product_mentions, dim_products and their unit tests. All
    patterns work on lower-cased text and use ASCII word boundaries ([a-z0-9]) so they behave the same under every
    database locale; Amharic aliases therefore also match after an Amharic prefix (የ-, ለ-, በ-), which is wanted. -#}

{% macro size_units() -%}
    {{- return({
        'pack_size': 'ml|ሚ\\.ሊ|ሚሊ|cc|litres?|liters?|ltr|lit|l|ሊትር|kg|ኪሎ|grams?|gms|gm|gr|g|ግራም|oz',
        'strength': 'mcg|mg|ሚ\\.ግ|ሚግ|iu',
        'pack_count': 'pcs|pieces|tablets?|tabs?|capsules?|caps|softgels?|gummies|chewables?|chewing|liquid gels?|sachets?|count|ct|ፍሬ|ኪኒን',
    }) -}}
{%- endmacro %}

{#- Where a segment ends inside a line: after each amount with its currency ("Nivea lotion 850 birr, Dove soap
    120 birr" is two) and after each 💵 amount ("ETT 3 💵230 ETT 3.5 💵225"), but not inside "2025 birr 750",
    "from 2,000 birr to 1,600 birr" or "2,400 birr ❌". The marker (chr(1)) never stands in a post; the lower-cased
    line keeps every character's position, so a segment's place in the post is known. -#}
{% macro mark_segment_ends(column) -%}
    regexp_replace(regexp_replace({{ column }},
        '([0-9]{{ blank() }}*(?:birr|bir|etb|ብር|br\.?)(?![a-z]))(?!{{ blank() }}*(?:[0-9]|-|–|—|to(?![a-z])|ወደ|❌|✖|➡|→|$))', E'\\1\001', 'g'),
        '((?:💵|💰){{ blank() }}*[:=፡-]?{{ blank() }}*[0-9][0-9,.]*(?![0-9,.])(?:{{ blank() }}*/{{ blank() }}*[0-9][0-9,.]*(?![0-9,.]))*(?:{{ blank() }}*(?:birr|bir|etb|ብር|br\.?)(?![a-z]))?)(?!{{ blank() }}*(?:❌|✖|➡|→|$|birr|bir|etb|ብር|br))',
        E'\\1\001', 'g')
{%- endmacro %}

{#- Lines about delivery or transport fees ("የትራንስፖርት አማራጭ ከ70 - 500 ብር", "fees are from 70 birr -500 birr"):
    their amounts are never a product's price. -#}
{% macro is_delivery_line(column) -%}
    ({{ column }} ~ '(?:deliver|transport|ትራንስፖርት|ዴሊቨሪ|ማድረሻ|shipping)')
{%- endmacro %}

{#- Text normalised for matching names: apostrophes, "&", spacing around "+", "omega-3" spellings, and dose and
    pack size removed ("5MG", "2.2kg", "237 ML", "75%", "500 ሚ.ግ") or reduced to the form ("60 GUMMIES" -> "gummies"),
    so "PRENATAL 60 GUMMIES" and "prenatal 90 gummies" name the same product. Lexicon aliases go through the same
    function, so an editor writes them as they appear in posts. Spaces only, never newlines, are touched. -#}
{% macro normalise_product_text(column) -%}
    btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        -- typographic apostrophes and dashes (replace() is much cheaper than translate() on UTF-8 text)
        replace(replace(replace(replace(replace(replace(replace(
            -- a word run into its dose ("Amlodipine10mg") is two
            regexp_replace(lower({{ latin_lookalikes(column) }}), '([a-z]{4,})([0-9])', '\1 \2', 'g'),
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

{#- Greek and Cyrillic capitals that look like Latin ones, as sellers paste them ("CLAVΑΜΥΝ" is Greek from the
    fourth letter on), read as the Latin letters they show. -#}
{% macro latin_lookalikes(column) -%}
    translate({{ column }}, 'ΑΒΕΖΗΙΚΜΝΟΡΤΥΧАВЕКМНОРСТХаеорсух', 'ABEZHIKMNOPTYXABEKMHOPCTXaeopcyx')
{%- endmacro %}

{#- The words of normalised text (normalise_product_text) as an array, the way names are matched: letters
    (Latin and Ethiopic), digits and apostrophes make words; "+" is a word of its own ("d3+zinc" is d3, +, zinc);
    everything else separates. -#}
{% macro product_tokens(normalised) -%}
    string_to_array(btrim(regexp_replace(replace({{ normalised }}, '+', ' + '),
        '[^a-z0-9+''\u1200-\u137f]+', ' ', 'g')), ' ')
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
        'ml': 'ml', 'cc': 'ml', 'lit': 'l', 'ሚሊ': 'ml', 'ሚ.ሊ': 'ml', 'l': 'l', 'ltr': 'l', 'litre': 'l', 'liter': 'l', 'litres': 'l',
        'liters': 'l', 'ሊትር': 'l', 'g': 'g', 'gm': 'g', 'gms': 'g', 'gr': 'g', 'gram': 'g', 'grams': 'g',
        'ግራም': 'g', 'kg': 'kg', 'ኪሎ': 'kg', 'oz': 'oz', 'mg': 'mg', 'ሚ.ግ': 'mg', 'ሚግ': 'mg', 'mcg': 'mcg', 'iu': 'iu',
    } -%}
    (select replace(found[1], ',', '.') || ' ' || case found[2]
            {%- for spelling, unit in canonical.items() %} when '{{ spelling }}' then '{{ unit }}'{% endfor %}
            else found[2] end
     from regexp_match({{ column }}, '(?<![a-z0-9.,])([0-9]+(?:[.,][0-9]+)?)\s*({{ units }})(?![a-z0-9])') as found)
{%- endmacro %}

{% macro pack_count(column) -%}
    coalesce(
        -- blister packs: "10x10", "3×10", "1x3"
        (select found[1]::integer * found[2]::integer
         from regexp_match({{ column }}, '(?<![a-z0-9.,])([0-9]{1,3})\s*[x×]\s*([0-9]{1,4})(?![0-9.,])') as found),
        -- "of 100", "of 14", "of.100"
        (regexp_match({{ column }}, '(?<![a-z])of\s*\.?\s*([0-9]{1,5})(?![0-9.,])'))[1]::integer,
        (regexp_match({{ column }}, '(?<![a-z0-9.,])([0-9]{1,5})\s*(?:{{ size_units()['pack_count'] }})(?![a-z])'))[1]::integer,
        -- "1s", "10's"
        (regexp_match({{ column }}, '(?<![a-z0-9.,])([0-9]{1,4})''?s(?![a-z])'))[1]::integer
    )
{%- endmacro %}

{#- Amounts in birr, one match per amount. Capture groups:
    1 a marker that the amount is the old price ("old price", "was", "የቀድሞ ዋጋ"), or 10 one after it ("2,400 birr ❌",
      "1,000 birr ➡️ 850 birr");
    2, 3 "from A to B" ("2,000 birr to 1,600 birr", "ከ1,500 ብር ወደ 1,200 ብር", "900-750 birr"): a reduction when
      B < A (B is the price), otherwise a range of amounts (a fee, not a price); not after a letter or "x"
      ("10x10 - 180 birr" is a pack of 10x10 at 180 birr);
    4 after a price word: "price 5000 birr", "price: 7500", "Price ~ 1600 birr", "ዋጋ፡ 2,450 ብር" (not "price 1,500 -
      2,500 birr", a range);
    5 before a currency: "900 etb", "1,200 ብር", except a year that precedes "birr <amount>" ("2025 birr 750");
    6 after a currency: "etb 900", "birr 750";
    7 after the banknote emojis of the wholesale lists: "💵145", "💵 3,800", "💰 70birr", "💵108.50"; of "💵48/58"
      (two sizes) the first;
    8 after a leader: "Parapil syrup...50", "cap = 442", "100ml=310 without attachment", not a size, a date or a
      count ("Carton size=400 vials", "Exp Date =11/27", "=120pk");
    9 a year marker after the amount ("2017 e.c.", "2018 ዓ.ም"): the amount is a year. -#}
{% macro price_pattern() -%}
    {%- set amount = "((?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?)(?![0-9]|[.,][0-9])" -%}
    {%- set currency = "(?:birr|bir|etb|ብር|br\.?)" -%}
    {%- set range_follows = "(?!\s*" ~ currency ~ "?\s*(?:-|–|—|to|ወደ)\s*ከ?[0-9])" -%}
    '(?:(old\s*price|was|before|የቀድሞ\s*ዋጋ|የቀድሞ|ቀድሞ)\s*[:=፡-]?\s*)?(?:'
    || '(?<![0-9a-z.,/]){{ amount }}\s*{{ currency }}?\s*(?:-|–|—|to|ወደ)\s*ከ?{{ amount }}\s*{{ currency }}(?![a-z])'
    || '|(?<![a-z])(?:price|ዋጋ|cost)\s*(?:is)?\s*[:=፡~-]?\s*{{ currency }}?\s*{{ amount }}{{ range_follows }}(?:\s*{{ currency }}(?![a-z]))?'
    || '|(?!(?:19|20)[0-9]{2}\s*{{ currency }}\s*[0-9])(?<![0-9,])(?<![0-9]\.){{ amount }}\s*{{ currency }}(?![a-z])'
    || '|(?<![a-z])(?:etb|birr|ብር)\s*{{ amount }}'
    || '|(?:💵|💰)\s*[:=፡-]?\s*{{ amount }}(?:\s*/\s*[0-9][0-9,.]*)*(?:\s*{{ currency }}(?![a-z]))?'
    || '|(?<!size|date|ratio|exp|qty|stock|carton)(?<!size |date |ratio |exp |qty |stock |carton )(?:\.{2,}|…|=)\s*{{ amount }}(?![0-9/.,%]|\s*(?:[a-z]*(?:pk|pcs|pieces|vials?|bottles?|box|boxes|tabs?|caps?|cartons?|tubes?|strips?|sachets?|units?|rolls?|bags?|kits?|tests?|ml|mg|gm?|kg|l|ltr)(?![a-z])))'
    || ')(\s*(?:e\.?\s*c\.?|g\.?\s*c\.?|ዓ\.?\s*ም|ዓ/ም)(?![a-z]))?(\s*(?:[❌✖➡→]|->))?'
{%- endmacro %}

{#- The amount of a price_pattern() match, or null when it is none: a range, a year, a phone number (written with
    a leading 0: "0911223344"), or beyond any shop's price (over a million birr). -#}
{% macro price_amount(match) -%}
    case
        when {{ match }}[9] is not null then null
        when {{ match }}[2] is not null then
            case when replace({{ match }}[3], ',', '')::numeric < replace({{ match }}[2], ',', '')::numeric
                then replace({{ match }}[3], ',', '')::numeric end
        when coalesce({{ match }}[4], {{ match }}[5], {{ match }}[6], {{ match }}[7], {{ match }}[8]) ~ '^0' then null
        when replace(coalesce({{ match }}[4], {{ match }}[5], {{ match }}[6], {{ match }}[7], {{ match }}[8]), ',', '')::numeric
            between 1 and 1000000
            then replace(coalesce({{ match }}[4], {{ match }}[5], {{ match }}[6], {{ match }}[7], {{ match }}[8]), ',', '')::numeric
    end
{%- endmacro %}

{#- A price to be asked for, not given: "💵: 👌", "price: inbox", "call for price", "ዋጋ ይደውሉ". -#}
{% macro price_on_request(column) -%}
    ({{ column }} ~ '💵\s*[:=፡-]?\s*👌|(?:price|ዋጋ)\s*[:=፡-]?\s*(?:inbox|on request|negotiable|call|dm)|call for (?:the )?price|ዋጋ\s*(?:ለመጠየቅ|ይደውሉ)')
{%- endmacro %}

{#- What opens a detail line of a list entry, never a new entry: stock, expiry, price, contacts. -#}
{% macro detail_marks() -%}
    (?:📦|⏳|⌛|📆|📅|🗓|🗳|💵|💰|¤|🏷|⏰|☎|📞|📲|📱|🚚)
{%- endmacro %}

{#- Words that only add details to a list entry ("20 box per carton", "All Exp. date: 2028", "100 pcs/box"), as a
    pattern of whole words over a segment's words joined by spaces. -#}
{% macro detail_words_pattern() -%}
    (?:^| )(?:exp|ex|expiry|expire|expired|date|stock|size|sizes|box|boxes|carton|cartons|cartoon|ctn|pcs|pc|pk|pks|pack|packs|packet|per|of|only|all|price|birr|br|etb|ብር|ዋጋ|off|discount|new|old|x|bottle|bottles|vial|vials|tubes|strips|tabs|caps|ampoules|amp|sachets|bags|rolls|roll|and|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|qty|quantity|available|in|left)(?= |$)
{%- endmacro %}

{#- A word spelt the way a misspelling of it would likely be ("azithromycine", "azitromycin" -> "azitromicin"):
    ph -> f, th -> t, y -> i, ae -> e, a letter written twice once, no final e. -#}
{% macro spelt_alike(column) -%}
    regexp_replace(regexp_replace(replace(replace(replace(replace({{ column }}, 'ph', 'f'), 'th', 't'), 'y', 'i'),
        'ae', 'e'), '([a-z])\1+', '\1', 'g'), 'e$', '')
{%- endmacro %}

{#- The words recognised as a product as they stand in its evidence ("Co-trimoxazole" for the words "co
    trimoxazole", "CLAVΑΜΥΝ" in Greek capitals for "clavamyn"): the shortest stretch of the evidence holding them in
    order, looked for in the evidence read with Latin letters (the same length, so the stretch is cut from the
    evidence as posted, where that reading finds it first); the words themselves where the evidence spells them
    otherwise. -#}
{% macro matched_text(evidence, matched_words) -%}
    {%- set readable = latin_lookalikes(evidence) -%}
    case
        -- the common case: the words stand in the evidence as they are
        when strpos(lower({{ readable }}), {{ matched_words }}) > 0
            then substr({{ evidence }}, strpos(lower({{ readable }}), {{ matched_words }}), length({{ matched_words }}))
        else coalesce(
            (select nullif(substr({{ evidence }}, strpos({{ readable }}, found.text), length(found.text)), '')
             from (select (regexp_match({{ readable }},
                                        regexp_replace(regexp_replace({{ matched_words }}, '([+])', '\\\1', 'g'),
                                                       ' ', '.{0,16}?', 'g'), 'i'))[1] as text) as found),
            {{ matched_words }})
    end
{%- endmacro %}

{#- Blank space as posts have it: non-breaking and zero-width spaces too (a regex class). -#}
{% macro blank() -%}
    [{{ blank_characters() }}]
{%- endmacro %}

{% macro blank_characters() -%}
    [:space:]\u00a0\u2007\u202f\u200b\ufeff
{%- endmacro %}

{#- Lower case with every blank a plain space: for patterns, not for positions. -#}
{% macro plain_lower(column) -%}
    translate(lower({{ column }}), U&'\00A0\2007\202F\200B\FEFF', '     ')
{%- endmacro %}

{#- How a line that goes on with the list entry before it begins, after any bullet: "=630 if attached", "with 1
    carton", "👉With attachment only", "#with attachment", "Ratio 5:2". -#}
{% macro continuation_start() -%}
    (?:[^[:alnum:]{{ blank_characters() }}]+{{ blank() }}*|[a-z]{{ blank() }}+)?(?:=|\+|with |if |or |and |ratio)
{%- endmacro %}

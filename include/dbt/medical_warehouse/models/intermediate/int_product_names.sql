-- Every name the product reader looks for, as the words it matches: the hand-written seeds (product_lexicon,
-- product_brands, product_types, medical_supplies, medicine_aliases, dosage_forms) and the medicine names
-- generated from drug-named-entity-recognition (seeds/generated/medicine_names.csv, written at setup). Each
-- alias is normalised and cut into words exactly as posts are (int_post_segments), so a seed is written the way
-- posts write. Where several seeds hold the same words as a product, the hand-written one wins: the lexicon,
-- then the supplies, then medicine_aliases, then the generated names. A generated name takes the hand seed's
-- spelling of its substance ("acetaminophen" -> Paracetamol, "albuterol" -> Salbutamol).
{{ config(materialized='table') }}

with

lexicon as (

    select * from {{ ref('product_lexicon') }}

),

brands as (

    select * from {{ ref('product_brands') }}

),

product_types as (

    select * from {{ ref('product_types') }}

),

supplies as (

    select * from {{ ref('medical_supplies') }}

),

medicine_aliases as (

    select * from {{ ref('medicine_aliases') }}

),

generated_medicine_names as (

    select * from {{ ref('medicine_names') }}

),

dosage_forms as (

    select * from {{ ref('dosage_forms') }}

),

medicines as (

    select
        medicine_aliases.alias,
        medicine_aliases.medicine_name,
        3 as precedence,
        true as is_common
    from medicine_aliases

    union all

    select
        generated_medicine_names.alias,
        coalesce(renamed.medicine_name, generated_medicine_names.medicine_name),
        4,
        generated_medicine_names.is_common
    from generated_medicine_names
    left join medicine_aliases as renamed on renamed.alias = lower(generated_medicine_names.medicine_name)

),

names as (

    select
        alias, 'product' as name_kind, 'lexicon' as name_source, 1 as precedence, product_name as name,
        product_category, nullif(brand, '') as brand, nullif(product_type, '') as product_type,
        false as names_product, false as is_common_medicine
    from lexicon

    union all

    select alias, 'product', 'supply', 2, product_name, product_category, null, null, false, false
    from supplies

    union all

    select alias, 'product', 'medicine', precedence, medicine_name, 'Medicines', null, null, false, is_common
    from medicines

    union all

    select alias, 'brand', 'brand', 1, brand, product_category, brand, null, false, false
    from brands

    union all

    select alias, 'type', 'type', 1, product_type, nullif(product_category, ''), null, product_type, names_product,
        false
    from product_types

    union all

    select alias, 'form', 'form', 1, dosage_form, null, null, null, false, false
    from dosage_forms

),

tokenised as (

    select
        names.*,
        {{ product_tokens(normalise_product_text('alias')) }} as words
    from names

),

-- A product's category is the one of its first seed ("Folic Acid" is a supplement where the lexicon says so, by
-- any of its names).
categorised as (

    select
        tokenised.*,
        case when name_kind = 'product'
            then first_value(product_category) over (partition by name_kind, name order by precedence, alias)
            else product_category end as name_category
    from tokenised

),

-- One name per words and kind: the seed that comes first wins.
final as (

    select distinct on (array_to_string(words, ' '), name_kind)
        array_to_string(words, ' ') as alias_words,
        words[1] as first_word,
        array_to_string(words[2:], ' ') as rest_words,
        cardinality(words) as word_count,
        name_kind,
        name_source,
        name,
        name_category as product_category,
        brand,
        product_type,
        names_product,
        -- a common medicine by any seed's row ("amoxicillin" is one although the lexicon names it too)
        bool_or(is_common_medicine) over (partition by array_to_string(words, ' ')) as is_common_medicine
    from categorised
    where cardinality(words) > 0
    order by array_to_string(words, ' '), name_kind, precedence, name

)

select * from final

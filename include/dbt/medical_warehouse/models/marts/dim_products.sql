-- One row per product a mention can name: each canonical product of the editable seed `product_lexicon` (many
-- aliases map to one), each brand of `product_brands` with each product type of `product_types` that names a
-- product ("Nivea Body Lotion"), and each brand on its own ("Nivea (unspecified product)"). A lexicon product
-- wins over a brand and type of the same name. fct_product_mentions builds the same names.
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

lexicon_products as (

    select
        product_name,
        min(product_category) as product_category,
        min(nullif(brand, '')) as brand,
        min(nullif(product_type, '')) as product_type,
        'lexicon' as product_source,
        count(*) as alias_count
    from lexicon
    group by product_name

),

distinct_brands as (

    select brand, min(product_category) as product_category, count(*) as alias_count
    from brands
    group by brand

),

naming_types as (

    select product_type, min(product_category) as product_category
    from product_types
    where names_product
    group by product_type

),

brand_products as (

    select
        distinct_brands.brand || ' ' || naming_types.product_type as product_name,
        naming_types.product_category,
        distinct_brands.brand,
        naming_types.product_type,
        'brand and type' as product_source,
        0 as alias_count
    from distinct_brands
    cross join naming_types

    union all

    select
        brand || ' (unspecified product)',
        product_category,
        brand,
        null,
        'brand only',
        alias_count
    from distinct_brands

),

final as (

    select
        md5(product_name) as product_key,
        product_name,
        product_category,
        brand,
        product_type,
        product_source,
        alias_count
    from lexicon_products

    union all

    select
        md5(brand_products.product_name),
        brand_products.product_name,
        brand_products.product_category,
        brand_products.brand,
        brand_products.product_type,
        brand_products.product_source,
        brand_products.alias_count
    from brand_products
    where not exists (
        select 1 from lexicon_products where lexicon_products.product_name = brand_products.product_name
    )

)

select * from final

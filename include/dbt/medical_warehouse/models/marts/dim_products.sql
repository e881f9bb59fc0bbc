-- One row per product a mention can name: each product of the name seeds (int_product_names: the lexicon's
-- specific products, medical supplies, medicines by their generic name), each brand of `product_brands` with
-- each product type of `product_types` that names a product ("Nivea Body Lotion"), each brand on its own
-- ("Nivea (unspecified product)"), and each combination of medicines a post named ("Ferrous Sulfate + Folic
-- Acid"). A named product wins over a brand and type of the same name. fct_product_mentions builds the same names.
with

names as (

    select * from {{ ref('int_product_names') }}

),

mentions as (

    select * from {{ ref('fct_product_mentions') }}

),

named_products as (

    select
        name as product_name,
        min(product_category) as product_category,
        min(brand) as brand,
        min(product_type) as product_type,
        (array_agg(name_source order by case name_source when 'lexicon' then 1 when 'supply' then 2 else 3 end))[1]
            as product_source,
        count(*) as alias_count
    from names
    where name_kind = 'product'
    group by name

),

distinct_brands as (

    select name as brand, min(product_category) as product_category, count(*) as alias_count
    from names
    where name_kind = 'brand'
    group by name

),

naming_types as (

    select name as product_type, min(product_category) as product_category
    from names
    where name_kind = 'type' and names_product
    group by name

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

combinations as (

    select product_name, min(product_category) as product_category, null as brand, null as product_type,
        'combination' as product_source, 0 as alias_count
    from mentions
    where product_name like '% + %'
      and not exists (select 1 from named_products where named_products.product_name = mentions.product_name)
    group by product_name

),

final as (

    select md5(product_name) as product_key, * from named_products

    union all

    select md5(brand_products.product_name), brand_products.*
    from brand_products
    where not exists (
        select 1 from named_products where named_products.product_name = brand_products.product_name
    )

    union all

    select md5(product_name), * from combinations

)

select * from final

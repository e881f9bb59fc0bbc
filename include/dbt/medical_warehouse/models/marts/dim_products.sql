-- One row per canonical product of the editable lexicon seed `product_lexicon` (many aliases map to one).
with

lexicon as (

    select * from {{ ref('product_lexicon') }}

),

final as (

    select
        md5(product_name) as product_key,
        product_name,
        product_category,
        count(*) as alias_count

    from lexicon
    group by product_name, product_category

)

select * from final

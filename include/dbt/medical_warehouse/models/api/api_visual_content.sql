-- Per channel: share of posts with images, images per category and average views per category
-- (do promotional photos get more views?), for GET /api/reports/visual-content.

with

messages as (

    select * from {{ ref('fct_messages') }}

),

image_detections as (

    select * from {{ ref('fct_image_detections') }}

),

-- image_category is per image, repeated on each of its detection rows: one row per image here (the first
-- model by name, should several models have looked at the same image).
images as (

    select distinct on (message_key)
        message_key,
        image_category
    from image_detections
    order by message_key, model_name

),

channel_posts as (

    select
        channel_name,
        count(*) as total_posts,
        count(*) filter (where has_image) as image_posts,
        round(avg(view_count) filter (where has_image), 2) as avg_views_with_image,
        round(avg(view_count) filter (where not has_image), 2) as avg_views_without_image
    from messages
    group by channel_name

),

category_stats as (

    select
        messages.channel_name,
        images.image_category,
        count(*) as image_count,
        round(avg(messages.view_count), 2) as avg_views
    from images
    inner join messages on images.message_key = messages.message_key
    group by messages.channel_name, images.image_category

),

categories as (

    select
        channel_name,
        -- Compact JSON, as the API writes its other fields (jsonb adds spaces, json_agg line breaks).
        array_to_json(array_agg(category order by category.image_category)) as categories
    from category_stats
    cross join lateral (
        select
            category_stats.image_category,
            category_stats.image_count,
            category_stats.avg_views::float8 as avg_views
    ) as category
    group by channel_name

)

select
    channel_posts.channel_name,
    channel_posts.total_posts,
    channel_posts.image_posts,
    round(channel_posts.image_posts::numeric / nullif(channel_posts.total_posts, 0), 4) as image_share,
    channel_posts.avg_views_with_image,
    channel_posts.avg_views_without_image,
    coalesce(categories.categories, '[]'::json) as categories
from channel_posts
left join categories on channel_posts.channel_name = categories.channel_name

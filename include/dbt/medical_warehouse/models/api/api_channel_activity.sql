-- Daily channel activity keyed for GET /api/channels/{channel_name}/activity (one index range scan).
{{ config(indexes=[{'columns': ['channel_name', 'full_date']}]) }}

with

daily_activity as (

    select * from {{ ref('fct_channel_daily_activity') }}

)

select
    channel_name,
    full_date,
    post_count,
    total_views,
    total_forwards,
    image_post_count
from daily_activity

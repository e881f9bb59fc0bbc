-- One row per channel and message, as loaded into raw.telegram_messages: plain cleaned text, UTC instants,
-- lower-case channel names. The loader's own bookkeeping (updated_at) drives the incremental marts.
with

source as (

    select * from {{ source('raw', 'telegram_messages') }}

),

renamed as (

    select
        -- ids
        lower(btrim(channel_name)) as channel_name,
        message_id,
        grouped_id as album_id,
        reply_to_message_id,

        -- text
        channel_title,
        {{ clean_text('message_text') }} as message_text,
        -- as posted, every character kept: the evidence of a product mention quotes it
        coalesce(message_text, '') as original_text,
        post_author,
        forwarded_from,
        media_type,
        image_path,
        source as scrape_source,
        lake_file,

        -- numbers
        views as view_count,
        forwards as forward_count,
        replies as reply_count,

        -- booleans
        has_media,
        (media_type = 'photo' or image_path is not null) is true as has_image,

        -- timestamps (timestamptz: instants, shown in UTC by the API)
        message_date as posted_at,
        edit_date as edited_at,
        scraped_at,
        loaded_at,
        updated_at

    from source

)

select * from renamed

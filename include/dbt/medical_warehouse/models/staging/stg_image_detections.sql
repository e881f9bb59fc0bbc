-- One row per object the detector found in a message's photo, per model; a photo with no detection has one
-- row with detection_index 0 and no class (raw.image_detections' convention, kept).
with

source as (

    select * from {{ source('raw', 'image_detections') }}

),

renamed as (

    select
        -- ids
        lower(btrim(channel_name)) as channel_name,
        message_id,
        model_name,
        detection_index,
        class_id,

        -- text
        nullif(btrim(detected_class), '') as detected_class,
        image_path,
        weights_hash,
        lake_file,

        -- numbers
        confidence as confidence_score,
        x_min,
        y_min,
        x_max,
        y_max,
        image_width,
        image_height,

        -- timestamps
        detected_at,
        loaded_at

    from source

)

select * from renamed

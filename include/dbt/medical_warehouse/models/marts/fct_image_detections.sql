-- One row per detection (or one row for a photo with none), with the photo's category: promotional (a person
-- and a product), product_display (product, no person), lifestyle (person, no product) or other. Which classes
-- are a person or a product is the seed `detection_class_roles`, not code. A photo is one message's image under
-- one model; re-detecting it replaces all its rows (delete+insert on message_key, model_name). The detector's
-- own summary (images/yolo/yolo_detector/roles.py) states the category rule too: the unit test
-- image_category_from_class_roles (_marts.yml) is the specification, and tests/images/yolo checks both meet it.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['message_key', 'model_name'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['detection_key'], 'unique': True},
            {'columns': ['message_key', 'model_name']},
            {'columns': ['source_updated_at']},
        ],
    )
}}

with

-- Not materialized: both are read more than once, and materializing the staging views would clean the text
-- of every post; inlined, PostgreSQL reads only the rows (and columns) the filters below select.
detections as not materialized (

    select * from {{ ref('stg_image_detections') }}

),

messages as not materialized (

    select * from {{ ref('stg_telegram_messages') }}

),

class_roles as (

    select lower(detected_class) as detected_class, role from {{ ref('detection_class_roles') }}

),

{% if is_incremental() %}
-- Photos whose detections were (re)loaded, or whose message arrived or changed, since the last run.
changed_images as (

    select channel_name, message_id from detections
    where loaded_at > {{ incremental_watermark() }}

    union

    select detections.channel_name, detections.message_id
    from messages
    inner join detections using (channel_name, message_id)
    where messages.updated_at > {{ incremental_watermark() }}

),
{% endif %}

-- Detections of messages that are in the warehouse (a photo's message may load later: it is picked up then).
image_detections as (

    select
        detections.*,
        messages.posted_at,
        greatest(detections.loaded_at, messages.updated_at) as row_updated_at,
        class_roles.role

    from detections
    inner join messages using (channel_name, message_id)
    left join class_roles on class_roles.detected_class = lower(detections.detected_class)
    {% if is_incremental() %}
    where (detections.channel_name, detections.message_id) in (select channel_name, message_id from changed_images)
    {% endif %}

),

images as (

    select
        channel_name,
        message_id,
        model_name,
        coalesce(bool_or(role = 'person'), false) as has_person,
        coalesce(bool_or(role = 'product'), false) as has_product,
        max(row_updated_at) as source_updated_at

    from image_detections
    group by channel_name, message_id, model_name

),

final as (

    select
        md5(
            image_detections.channel_name || '-' || image_detections.message_id::text || '-'
            || image_detections.model_name || '-' || image_detections.detection_index::text
        ) as detection_key,
        {{ message_key('image_detections.channel_name', 'image_detections.message_id') }} as message_key,
        image_detections.message_id,
        {{ channel_key('image_detections.channel_name') }} as channel_key,
        image_detections.channel_name,
        {{ date_key('image_detections.posted_at') }} as date_key,
        image_detections.model_name,
        image_detections.detection_index,
        image_detections.detected_class,
        image_detections.class_id,
        image_detections.confidence_score,
        case
            when images.has_person and images.has_product then 'promotional'
            when images.has_product then 'product_display'
            when images.has_person then 'lifestyle'
            else 'other'
        end as image_category,
        images.has_person,
        images.has_product,
        image_detections.image_path,
        image_detections.detected_at,
        images.source_updated_at

    from image_detections
    inner join images using (channel_name, message_id, model_name)

)

select * from final

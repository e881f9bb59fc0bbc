-- One row per message. Incremental: each run merges the messages the loader inserted or changed (views and
-- forwards grow after posting) since the newest change this table already holds.
-- No full-text index here: api.api_message_search holds the searchable document of every post (its words and
-- the products it names, indexed per age tier); a second index over the same words doubled this model's build.
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='message_key',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['message_key'], 'unique': True},
            {'columns': ['source_updated_at']},
            {'columns': ['channel_key', 'date_key']},
            {'columns': ['posted_at']},
        ],
    )
}}

with

messages as (

    select * from {{ ref('stg_telegram_messages') }}
    {% if is_incremental() %}
    where updated_at > {{ incremental_watermark() }}
    {% endif %}

),

final as (

    select
        {{ message_key('channel_name', 'message_id') }} as message_key,
        message_id,
        {{ channel_key('channel_name') }} as channel_key,
        channel_name,
        channel_title,
        {{ date_key('posted_at') }} as date_key,
        posted_at,
        message_text,
        char_length(message_text) as message_length,
        view_count,
        forward_count,
        has_image,
        image_path,
        updated_at as source_updated_at

    from messages

)

select * from final

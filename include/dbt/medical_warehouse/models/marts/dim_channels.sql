-- One row per channel seen in the data, typed from the editable seed `channels`. A channel missing from the
-- seed is typed by its name: "pharm" -> Pharmaceutical, "cosmetic"/"beauty" -> Cosmetics, else Medical.
with

messages as (

    select * from {{ ref('stg_telegram_messages') }}

),

channel_types as (

    select * from {{ ref('channels') }}

),

channel_stats as (

    select
        channel_name,
        (array_agg(channel_title order by posted_at desc) filter (where channel_title is not null))[1]
            as channel_title,
        min(posted_at) as first_posted_at,
        max(posted_at) as last_posted_at,
        count(*) as total_posts,
        round(avg(view_count), 2) as avg_views

    from messages
    group by channel_name

),

final as (

    select
        {{ channel_key('channel_stats.channel_name') }} as channel_key,
        channel_stats.channel_name,
        channel_stats.channel_title,
        coalesce(
            channel_types.channel_type,
            case
                when channel_stats.channel_name like '%pharm%' then 'Pharmaceutical'
                when channel_stats.channel_name ~ '(cosmetic|beauty)' then 'Cosmetics'
                else 'Medical'
            end
        ) as channel_type,
        {{ utc_date('channel_stats.first_posted_at') }} as first_post_date,
        {{ utc_date('channel_stats.last_posted_at') }} as last_post_date,
        channel_stats.total_posts,
        channel_stats.avg_views

    from channel_stats
    left join channel_types on channel_types.channel_name = channel_stats.channel_name

)

select * from final

-- One row per channel seen in the data, typed from the editable seed `channels`. A channel missing from the
-- seed is typed by its name: "pharm" -> Pharmaceutical, "cosmetic"/"beauty" -> Cosmetics, else Medical.
-- Statistics come from the (incremental) daily activity, so this table costs little however many posts exist.
with

daily_activity as (

    select * from {{ ref('fct_channel_daily_activity') }}

),

messages as (

    select * from {{ ref('stg_telegram_messages') }}

),

channel_types as (

    select * from {{ ref('channels') }}

),

channel_stats as (

    select
        channel_name,
        min(full_date) as first_post_date,
        max(full_date) as last_post_date,
        sum(post_count)::bigint as total_posts,
        round(sum(total_views)::numeric / nullif(sum(viewed_post_count), 0), 2) as avg_views

    from daily_activity
    group by channel_name

),

final as (

    select
        {{ channel_key('channel_stats.channel_name') }} as channel_key,
        channel_stats.channel_name,
        latest_title.channel_title,
        coalesce(
            channel_types.channel_type,
            case
                when channel_stats.channel_name like '%pharm%' then 'Pharmaceutical'
                when channel_stats.channel_name ~ '(cosmetic|beauty)' then 'Cosmetics'
                else 'Medical'
            end
        ) as channel_type,
        channel_stats.first_post_date,
        channel_stats.last_post_date,
        channel_stats.total_posts,
        channel_stats.avg_views

    from channel_stats
    left join channel_types on channel_types.channel_name = channel_stats.channel_name
    -- The title of the channel's newest post that has one (the primary key's order: a few index reads).
    left join lateral (
        select messages.channel_title from messages
        where messages.channel_name = channel_stats.channel_name and messages.channel_title is not null
        order by messages.message_id desc
        limit 1
    ) as latest_title on true

)

select * from final

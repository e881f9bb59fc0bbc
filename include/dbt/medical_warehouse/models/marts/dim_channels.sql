-- One row per channel seen in the data, typed from the editable seed `channels`. A channel missing from the
-- seed is typed by its name: "pharm" -> Pharmaceutical, "cosmetic"/"beauty" -> Cosmetics, else Medical.
-- Statistics come from the (incremental) daily activity, so this table costs little however many posts exist.
with

daily_activity as (

    select * from {{ ref('fct_channel_daily_activity') }}

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
        round(sum(total_views)::numeric / nullif(sum(viewed_post_count), 0), 2) as avg_views,
        (array_agg(channel_title order by full_date desc) filter (where channel_title is not null))[1]
            as channel_title

    from daily_activity
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
        channel_stats.first_post_date,
        channel_stats.last_post_date,
        channel_stats.total_posts,
        channel_stats.avg_views

    from channel_stats
    left join channel_types on channel_types.channel_name = channel_stats.channel_name

)

select * from final

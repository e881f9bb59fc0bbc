"""Channels and their activity over time."""

LIST = """
select channel_name, channel_title, channel_type, first_post_date, last_post_date,
       total_posts, avg_views::float8 as avg_views
from marts.dim_channels
order by channel_name
"""

# One round trip: whether the channel exists, and its periods as JSON. Every period between the bounds
# appears, zero-filled, so a chart shows quiet days as quiet. The series is clamped to the channel's own
# first..last post, so `since=0001-01-01` stays cheap.
ACTIVITY = """
with bounds as (
    select greatest(first_post_date, coalesce(%(since)s::date, first_post_date)) as start,
           least(last_post_date, coalesce(%(until)s::date, last_post_date)) as stop
    from marts.dim_channels
    where channel_name = %(channel)s
),
periods as (
    select generate_series(
        date_trunc(%(unit)s, start::timestamp)::date,
        stop,
        case when %(unit)s = 'week' then interval '7 days' else interval '1 day' end
    )::date as period_start
    from bounds
    where start <= stop
),
activity as (
    select date_trunc(%(unit)s, full_date::timestamp)::date as period_start,
           sum(post_count)::bigint as post_count,
           sum(total_views)::bigint as total_views,
           sum(total_forwards)::bigint as total_forwards,
           sum(image_post_count)::bigint as image_post_count
    from api.api_channel_activity, bounds
    where channel_name = %(channel)s
      and full_date between bounds.start and bounds.stop
    group by 1
)
select exists (select from bounds) as known,
       coalesce((
           select array_to_json(array_agg(period order by p.period_start))
           from periods as p
           left join activity as a using (period_start)
           cross join lateral (
               select p.period_start,
                      coalesce(a.post_count, 0) as post_count,
                      coalesce(a.total_views, 0) as total_views,
                      coalesce(a.total_forwards, 0) as total_forwards,
                      coalesce(a.image_post_count, 0) as image_post_count
           ) as period
       ), '[]'::json)::text as periods
"""

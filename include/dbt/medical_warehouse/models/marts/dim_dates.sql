-- A calendar spine: every day from the first of January of the earliest post's year to the last day of the year
-- of the latest post (or of today, whichever is later), so charts show days without posts too.
with

messages as (

    select * from {{ ref('fct_messages') }}

),

-- min/max of an indexed column: two index reads, however many posts there are.
bounds as (

    select
        date_trunc('year', coalesce({{ utc_date('min(posted_at)') }}, current_date))::date as first_date,
        (date_trunc('year', greatest({{ utc_date('max(posted_at)') }}, current_date))
            + interval '1 year - 1 day')::date as last_date

    from messages

),

days as (

    select day::date as full_date
    from bounds, generate_series(bounds.first_date, bounds.last_date, interval '1 day') as day

),

final as (

    select
        to_char(full_date, 'YYYYMMDD')::integer as date_key,
        full_date,
        extract(isodow from full_date)::integer as day_of_week,
        to_char(full_date, 'FMDay') as day_name,
        extract(week from full_date)::integer as week_of_year,
        extract(month from full_date)::integer as month,
        to_char(full_date, 'FMMonth') as month_name,
        extract(quarter from full_date)::integer as quarter,
        extract(year from full_date)::integer as year,
        extract(isodow from full_date) in (6, 7) as is_weekend

    from days

)

select * from final

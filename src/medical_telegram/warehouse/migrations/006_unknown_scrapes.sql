-- Lakes written by other implementations of the pipeline say neither when a post was scraped (or say it
-- without a UTC offset) nor how: such a record keeps scraped_at and source null rather than a guess, and orders
-- before every record whose scrape time is known (medical_telegram.lake.scrape_order, the loader's upsert).
alter table raw.telegram_messages alter column scraped_at drop not null;
alter table raw.telegram_messages alter column source drop not null;

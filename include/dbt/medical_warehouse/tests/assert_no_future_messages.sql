-- A post cannot be dated after now (a clock or time-zone mistake in a scraper or an import). Five minutes of
-- slack absorb clock skew between Telegram and this machine.
select message_key, channel_name, message_id, posted_at
from {{ ref('fct_messages') }}
where posted_at > now() + interval '5 minutes'

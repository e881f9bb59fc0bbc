-- View and forward counts are never negative. Null is allowed: Telegram Desktop exports carry no counts.
select message_key, channel_name, message_id, view_count, forward_count
from {{ ref('fct_messages') }}
where view_count < 0 or forward_count < 0

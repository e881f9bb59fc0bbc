"""The data lake: the message record, where files live, atomic merged writes and the quarantine.

The record is defined here once; the scraper, the export importer and the loader all use it.
Layout under DATA_LAKE_DIR (default ./data):

    raw/telegram_messages/YYYY-MM-DD/<channel>.json   one channel's messages of one UTC day, a JSON array
    raw/images/<channel>/<message_id>.jpg
    enriched/detections/...
    quarantine/...                                     what could not be read, each beside a note saying why

The record and its validation: record.py; the files: files.py. Both are read as `lake.<name>`.
"""

from medical_telegram.lake.record import (  # noqa: F401  (the lake's API: lake.<name>)
    SOURCES, CHANNEL_NAME_RE, MAX_INT32, RecordError, MessageRecord, RECORD_FIELDS, REQUIRED_FIELDS,
    KEEP_WHEN_MISSING, MAX_INT, strip_nul, ImageError, check_image, canonical_instant,
    is_plain_lake_path,
)
from medical_telegram.lake.files import (  # noqa: F401  (the lake's API: lake.<name>)
    MESSAGES_DIR, IMAGES_DIR, DETECTIONS_DIR, QUARANTINE_DIR, lake_dir, utc_iso, utc_now, messages_file,
    image_file, image_relpath, dumps, atomic_write_bytes, temp_name, fsync_file, fsync_dir, atomic_copy,
    scrape_order, merge_record, channel_lock, write_messages, read_messages, quarantine, split_records,
    parse_array,
)

-- The raw layer: what the lake holds, loaded as it is. dbt builds everything else from here.
create schema if not exists raw;

create table if not exists raw.telegram_messages (
    channel_name         text        not null,
    message_id           bigint      not null,
    channel_title        text,
    message_date         timestamptz not null,
    message_text         text        not null default '',
    views                integer,
    forwards             integer,
    replies              integer,
    edit_date            timestamptz,
    post_author          text,
    grouped_id           bigint,
    reply_to_message_id  bigint,
    forwarded_from       text,
    has_media            boolean     not null default false,
    media_type           text,
    image_path           text,
    scraped_at           timestamptz not null,
    source               text        not null check (source in ('telethon', 'desktop_export')),
    raw                  jsonb       not null,
    lake_file            text        not null,
    loaded_at            timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    primary key (channel_name, message_id)
);

-- dbt's incremental models pick up rows changed since their last run.
create index if not exists telegram_messages_updated_at_idx on raw.telegram_messages (updated_at);

-- One row per detection; an image in which the model found nothing has a single row with
-- detection_index 0 and detected_class null, so "already processed" is a plain lookup.
create table if not exists raw.image_detections (
    channel_name     text        not null,
    message_id       bigint      not null,
    model_name       text        not null,
    detection_index  integer     not null,
    image_path       text        not null,
    weights_hash     text,
    detected_class   text,
    class_id         integer,
    confidence       real,
    x_min            real,
    y_min            real,
    x_max            real,
    y_max            real,
    image_width      integer,
    image_height     integer,
    detected_at      timestamptz not null,
    lake_file        text        not null,
    loaded_at        timestamptz not null default now(),
    primary key (channel_name, message_id, model_name, detection_index)
);

create table if not exists raw.load_log (
    load_id      bigserial   primary key,
    target       text        not null,
    file_path    text        not null,
    checksum     text        not null,
    status       text        not null check (status in ('loaded', 'quarantined')),
    rows_in      integer     not null default 0,
    inserted     integer     not null default 0,
    updated      integer     not null default 0,
    unchanged    integer     not null default 0,
    quarantined  integer     not null default 0,
    reason       text,
    started_at   timestamptz not null,
    finished_at  timestamptz not null default now(),
    unique (target, file_path, checksum)
);

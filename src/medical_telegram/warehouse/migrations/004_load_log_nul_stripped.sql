-- NUL characters cannot be stored in PostgreSQL's text or jsonb: the loader strips them from a file's records
-- (the posts still load) and counts here how many it removed.
alter table raw.load_log add column if not exists nul_stripped integer not null default 0;

-- marts.fct_messages no longer carries a full-text index (api.api_message_search serves search, with a GIN
-- index per age tier): drop the one earlier builds created, which every incremental merge would keep updating.
-- Its name carries the build's start time, so it is found by its definition.
do $$
declare
    name text;
begin
    for name in
        select indexname from pg_indexes
        where schemaname = 'marts' and tablename = 'fct_messages' and indexdef like '%to_tsvector%message_text%'
    loop
        begin
            execute format('drop index marts.%I', name);
        exception when insufficient_privilege then
            -- a warehouse whose marts another role owns: that role's next full refresh leaves it out
            raise notice 'marts.% is not ours to drop: left in place', name;
        end;
    end loop;
end
$$;

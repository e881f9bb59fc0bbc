-- The analytical API's role: it logs in and reads the marts and the API's serving tables (schema api),
-- and can write nothing. Set its password out of band (ALTER ROLE medtel_api PASSWORD ...); never here.
-- A role made beforehand (the compose PostgreSQL's init makes it, with its password) is left alone: checking
-- first lets an owner without CREATEROLE migrate, since PostgreSQL refuses CREATE ROLE before it would
-- notice the duplicate.
do $$
begin
    if not exists (select from pg_roles where rolname = 'medtel_api') then
        create role medtel_api login;
    end if;
exception
    -- Roles are cluster-wide: another database (or a concurrent migration) may have made it already.
    when duplicate_object or unique_violation then null;
end
$$;

-- dbt creates these too; creating them here lets the grants exist before the first dbt run.
create schema if not exists marts;
create schema if not exists api;

grant usage on schema marts, api to medtel_api;
grant select on all tables in schema marts, api to medtel_api;
-- dbt rebuilds tables on every run; default privileges give each new table (made by the role running
-- migrations and dbt) the same read grant.
alter default privileges in schema marts grant select on tables to medtel_api;
alter default privileges in schema api grant select on tables to medtel_api;

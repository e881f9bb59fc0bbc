#!/usr/bin/env bash
# The official postgres image's first-start contract, in short: an empty PGDATA gets initdb (superuser
# POSTGRES_USER with POSTGRES_PASSWORD, scram-sha-256 over TCP), POSTGRES_DB, then the scripts in
# /docker-entrypoint-initdb.d run against a server that listens on the socket only. The password goes
# through a file descriptor, never a command line.
set -euo pipefail
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
if [[ ${1:-} == postgres && ! -s $PGDATA/PG_VERSION ]]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s' "$POSTGRES_PASSWORD") \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
    printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    export PGUSER=$POSTGRES_USER PGHOST=/var/run/postgresql
    if [[ $POSTGRES_DB != postgres ]]; then
        psql -v ON_ERROR_STOP=1 -q --dbname postgres --set db="$POSTGRES_DB" <<< 'create database :"db";'
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case $script in
            *.sh) echo "entrypoint: running $script"; . "$script" ;;
            *.sql) echo "entrypoint: running $script"; psql -v ON_ERROR_STOP=1 -q --dbname "$POSTGRES_DB" -f "$script" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "entrypoint: database initialised"
fi
exec "$@"

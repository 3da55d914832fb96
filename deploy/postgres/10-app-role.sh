#!/bin/sh
# The app's login role, created on the database's first start (docker-entrypoint-initdb.d).
# Row-level security binds it because it is no superuser, has no BYPASSRLS and owns nothing;
# `member360 migrate` (as the owner, POSTGRES_USER) grants it row access to every table.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="${M360_APP_DB_PASSWORD:?set M360_APP_DB_PASSWORD}" <<'SQL'
CREATE ROLE member360_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
  PASSWORD :'app_password';
SQL

#!/usr/bin/env bash
# Runs once, when the `warehouse` Postgres initialises an empty data volume (the postgres image
# executes /docker-entrypoint-initdb.d/* then, and never again on an existing volume).
#
# Creates the `mlflow` role and the `mlflow` database it owns: the MLflow tracking server keeps
# its backend store in the warehouse server but in its own database, so its Alembic migrations
# never touch the `salesops` database and it needs no rights there.
#
# The password arrives as MLFLOW_DB_PASSWORD (docker-compose.yml passes it to this container)
# and is handed to psql as a variable, so psql quotes it (:'...') instead of the shell.
# The postgres entrypoint runs this file, or sources it when it is not executable: keep to
# the entrypoint's own shell options (-Eeo pipefail), and fail loudly on a missing password.
set -eo pipefail

: "${MLFLOW_DB_PASSWORD:?MLFLOW_DB_PASSWORD must be set for the warehouse container}"

psql -v ON_ERROR_STOP=1 \
     --username "$POSTGRES_USER" \
     --dbname "$POSTGRES_DB" \
     -v mlflow_password="$MLFLOW_DB_PASSWORD" <<'SQL'
select format('create role mlflow login password %L', :'mlflow_password')
where not exists (select 1 from pg_roles where rolname = 'mlflow')
\gexec
select 'create database mlflow owner mlflow'
where not exists (select 1 from pg_database where datname = 'mlflow')
\gexec
SQL

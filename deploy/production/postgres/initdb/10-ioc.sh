#!/bin/sh
# Runs once, on an empty data volume (docker-entrypoint-initdb.d of the TimescaleDB image):
# the IOC's role (its password from a secret file, never on a command line) and its database.
# The role owns the schema (migrations) and the hypertables (the worker's drop_chunks needs that);
# it is not a superuser.  The extension is created here, by the superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\set pw `cat /run/secrets/ioc_db_password`
CREATE ROLE ioc LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE ioc OWNER ioc;
\connect ioc
CREATE EXTENSION IF NOT EXISTS timescaledb;
SQL

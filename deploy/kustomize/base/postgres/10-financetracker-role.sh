#!/usr/bin/env bash
# docker-entrypoint-initdb.d hook (runs once, on an empty data directory, as the bootstrap superuser
# `postgres` over the local socket): create the non-superuser application role and its database.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$(cat /var/run/secrets/postgres/DATABASE_PASSWORD)" \
  -f /etc/financetracker-db/roles.sql

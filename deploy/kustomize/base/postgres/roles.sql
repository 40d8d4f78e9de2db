-- The application role: owns the financetracker database, is not a superuser and cannot create
-- roles or databases. Idempotent: run at initdb (docker-entrypoint-initdb.d) and by the
-- postgres-roles Job (first install of an older volume, and every password rotation).
-- Needs psql variables app_password (and runs as a superuser).
\set ON_ERROR_STOP on
SELECT 'CREATE ROLE financetracker LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'financetracker')\gexec
ALTER ROLE financetracker WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';
SELECT 'CREATE DATABASE financetracker OWNER financetracker'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'financetracker')\gexec
ALTER DATABASE financetracker OWNER TO financetracker;
-- A runaway query or a forgotten open transaction must not hold locks for ever (imports commit in
-- well under this; migrate_with_lock.py lifts statement_timeout for its own session).
ALTER ROLE financetracker IN DATABASE financetracker SET statement_timeout = '300s';
ALTER ROLE financetracker IN DATABASE financetracker SET idle_in_transaction_session_timeout = '60s';
\connect financetracker
ALTER SCHEMA public OWNER TO financetracker;

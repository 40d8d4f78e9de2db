-- The application role: owns the application database, is not a superuser and cannot create roles
-- or databases. Idempotent: run at initdb (docker-entrypoint-initdb.d) and by the postgres-roles Job
-- (every password rotation, and once on a volume made before the app role existed). Runs as a
-- superuser with psql variables app_password (required), app_role and app_db (default financetracker).
\set ON_ERROR_STOP on
\if :{?app_role}
\else
  \set app_role financetracker
\endif
\if :{?app_db}
\else
  \set app_db financetracker
\endif
SELECT format('CREATE ROLE %I LOGIN', :'app_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_role')\gexec
ALTER ROLE :"app_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db')\gexec
ALTER DATABASE :"app_db" OWNER TO :"app_role";
-- A runaway query or a forgotten open transaction must not hold locks for ever (imports commit in
-- well under this; migrate_with_lock.py lifts statement_timeout for its own session).
ALTER ROLE :"app_role" IN DATABASE :"app_db" SET statement_timeout = '300s';
ALTER ROLE :"app_role" IN DATABASE :"app_db" SET idle_in_transaction_session_timeout = '60s';
\connect :"app_db"
ALTER SCHEMA public OWNER TO :"app_role";

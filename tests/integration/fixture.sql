-- Integration fixture, loaded into the demo database after scripts/sql/demo.sql.
CREATE SCHEMA "Mixed Schema";
CREATE TABLE "Mixed Schema"."Odd Table" ("Col A" integer PRIMARY KEY, "lower col" text, "Quote""d" text);
INSERT INTO "Mixed Schema"."Odd Table" VALUES (1, 'one', 'q1'), (2, 'two', 'q2');
COMMENT ON TABLE "Mixed Schema"."Odd Table" IS 'Quoted, mixed-case names';
CREATE TABLE public.orders (id integer PRIMARY KEY, note text);  -- same name as shop.orders
INSERT INTO public.orders VALUES (1, 'a public order');
CREATE INDEX orders_note_idx ON public.orders (lower(note), id) INCLUDE (note);  -- an expression key
CREATE TABLE public.wide AS
  SELECT g AS id, repeat('x', 1000) AS payload FROM generate_series(1, 2000) g;
GRANT USAGE ON SCHEMA "Mixed Schema" TO pgmcp_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA "Mixed Schema", public TO pgmcp_reader;

CREATE DATABASE inventory;
\connect inventory
CREATE TABLE stock (sku text PRIMARY KEY, quantity integer NOT NULL);
INSERT INTO stock VALUES ('SKU-0001', 12), ('SKU-0002', 0);
GRANT SELECT ON stock TO pgmcp_reader;

-- The SQL policy corpus (tests/integration/policy_corpus.txt) runs against
-- this database: a blocked table, blocked columns, views over them, a blocked
-- function behind an operator, and tables for real analytic reads. Every
-- statement is logged, so the test can prove refused ones never arrived.
\connect demo
CREATE DATABASE corpus;
\connect corpus
ALTER DATABASE corpus SET log_statement = 'all';
CREATE SCHEMA app;
CREATE SCHEMA geo;
CREATE TABLE app.users (id integer PRIMARY KEY, email text NOT NULL, password text NOT NULL,
  password_policy text, api_token text, region text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE app.orders (id integer PRIMARY KEY, user_id integer REFERENCES app.users, total numeric(10,2),
  status text, placed_at timestamptz, meta jsonb);
CREATE TABLE app.order_items (order_id integer REFERENCES app.orders, sku text, quantity integer,
  unit_price numeric(10,2));
CREATE TABLE app.categories (id integer PRIMARY KEY, parent_id integer REFERENCES app.categories, name text);
CREATE TABLE app.secrets (id integer PRIMARY KEY, value text);
CREATE TABLE app.audit_log (id bigserial PRIMARY KEY, action text);
CREATE TABLE app."Mixed Case" ("Id" integer, "Password" text);
CREATE TABLE geo.places (id integer PRIMARY KEY, name text, lat double precision, lon double precision);
INSERT INTO app.users
  SELECT g, 'user' || g || '@example.com', 'hunter' || g, 'strong', 'tok-' || g,
         (ARRAY['eu', 'us', 'apac'])[1 + g % 3], timestamptz '2025-01-01' + g * interval '1 day'
  FROM generate_series(1, 30) g;
INSERT INTO app.orders
  SELECT g, 1 + g % 30, (g * 7 % 500) + 0.99, (ARRAY['paid', 'shipped', 'cancelled'])[1 + g % 3],
         timestamptz '2025-01-01' + g * interval '9 hours',
         jsonb_build_object('channel', (ARRAY['web', 'app'])[1 + g % 2], 'tags', jsonb_build_array('a', 'b'))
  FROM generate_series(1, 200) g;
INSERT INTO app.order_items SELECT 1 + g % 200, 'SKU-' || (g % 17), 1 + g % 4, 9.5 + g % 11
  FROM generate_series(1, 600) g;
INSERT INTO app.categories VALUES (1, NULL, 'all'), (2, 1, 'books'), (3, 2, 'fiction'), (4, 1, 'games');
INSERT INTO app.secrets VALUES (1, 'the launch code');
INSERT INTO app."Mixed Case" VALUES (1, 'not the blocked column');
INSERT INTO geo.places VALUES (1, 'Berlin', 52.52, 13.40), (2, 'Paris', 48.86, 2.35), (3, 'Rome', 41.90, 12.50);
CREATE FUNCTION geo.st_distance(double precision, double precision, double precision, double precision)
  RETURNS double precision LANGUAGE sql IMMUTABLE AS 'SELECT sqrt(($1 - $3) ^ 2 + ($2 - $4) ^ 2)';
CREATE FUNCTION app.slow_echo(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION app.same(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE OPERATOR app.=== (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app.same);
CREATE VIEW app.user_directory AS SELECT id, email, region FROM app.users;
CREATE VIEW app.user_logins AS SELECT id, password AS pw FROM app.users;
CREATE VIEW app.login_ids AS SELECT id FROM app.user_logins;
CREATE MATERIALIZED VIEW app.password_stats AS
  SELECT length(password) AS len, count(*) AS n FROM app.users GROUP BY 1;
CREATE VIEW app.user_rows AS SELECT row_to_json(u) AS doc FROM app.users u;
CREATE VIEW app.checked_orders AS
  SELECT o.id, o.total FROM app.orders o
  WHERE o.user_id IN (SELECT id FROM app.users WHERE password IS NOT NULL);
CREATE VIEW app.sessions_now AS SELECT pid, state FROM pg_stat_activity;
CREATE VIEW app.order_totals AS
  SELECT user_id, count(*) AS orders, sum(total) AS revenue FROM app.orders GROUP BY user_id;
-- Same name in two schemas: public.tokens is blocked, app.tokens (first on the
-- search path pg-mcp sets) is not, and a view in app reads the public one.
CREATE TABLE public.tokens (id integer, secret text);
CREATE TABLE app.tokens (id integer, label text);
INSERT INTO public.tokens VALUES (1, 'shh');
INSERT INTO app.tokens VALUES (1, 'visible');
CREATE VIEW app.token_ids AS SELECT id FROM public.tokens;
GRANT SELECT ON public.tokens TO pgmcp_reader;
GRANT USAGE ON SCHEMA app, geo TO pgmcp_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA app, geo TO pgmcp_reader;
-- The login role may write this one table, so that only pg-mcp stands between
-- a write in the corpus and the data (and allow_write has something to do).
GRANT INSERT, DELETE ON app.audit_log TO pgmcp_reader;
GRANT USAGE ON SEQUENCE app.audit_log_id_seq TO pgmcp_reader;

-- Trust I fixtures: the classes of the red-team review, one object or more each.
-- Extensions from postgresql-contrib that read files, run SQL text, reach other
-- servers or change storage.
CREATE EXTENSION dblink;
CREATE EXTENSION tablefunc;
CREATE EXTENSION xml2;
CREATE EXTENSION hstore;
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION file_fdw;
CREATE EXTENSION pg_surgery;
CREATE EXTENSION pg_visibility;
CREATE EXTENSION adminpack;
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION tsm_system_rows;
CREATE EXTENSION pageinspect;
-- Inheritance and partitions of blocked tables (blocked: app.secrets, app.ledger_2025).
CREATE TABLE app.secrets_archive (archived_at date) INHERITS (app.secrets);
INSERT INTO app.secrets_archive VALUES (2, 'an archived code', '2025-06-01');
CREATE TABLE app.ledger (id integer, amount numeric, booked date) PARTITION BY RANGE (booked);
CREATE TABLE app.ledger_2025 PARTITION OF app.ledger FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.ledger_2026 PARTITION OF app.ledger FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO app.ledger VALUES (1, 10, '2025-03-01'), (2, 20, '2026-03-01');
-- Blocked columns through dropped columns and inheritance (blocked: staff.ssn, people.ssn).
CREATE TABLE app.staff (id integer, dropped_a text, name text, dropped_b text, salary numeric, ssn text);
ALTER TABLE app.staff DROP COLUMN dropped_a;
ALTER TABLE app.staff DROP COLUMN dropped_b;
INSERT INTO app.staff VALUES (1, 'Ada', 100, '123-45-6789'), (2, 'Bob', 90, '987-65-4321');
CREATE TABLE app.people (id integer, name text, ssn text);
CREATE TABLE app.contractors (rate numeric) INHERITS (app.people);
INSERT INTO app.contractors VALUES (1, 'Cy', '555-00-1111', 50);
-- A table with a column named like a blocked one, for NATURAL/USING oracles.
CREATE TABLE app.guesses (password text, api_token text);
INSERT INTO app.guesses VALUES ('hunter1', 'tok-1');
-- Foreign tables.
CREATE SERVER loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'corpus');
CREATE USER MAPPING FOR PUBLIC SERVER loopback OPTIONS (user 'pgmcp_reader', password 'mapping-secret');
CREATE FOREIGN TABLE app.remote_users (id integer, email text) SERVER loopback
  OPTIONS (schema_name 'app', table_name 'users');
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE app.passwd_file (line text) SERVER files OPTIONS (filename '/etc/passwd');
-- Built-ins under other names, and implicit calls.
CREATE FUNCTION app.nap(double precision) RETURNS void LANGUAGE internal STRICT AS 'pg_sleep';
CREATE FUNCTION app.peek(text) RETURNS text LANGUAGE internal STRICT AS 'pg_read_file_all';
CREATE FUNCTION app.locker(bigint) RETURNS void LANGUAGE internal STRICT AS 'pg_advisory_lock_int8';
CREATE FUNCTION app.plus_locked(integer, integer) RETURNS integer LANGUAGE sql
  AS 'SELECT $1 + $2 + (SELECT 0 FROM pg_advisory_lock(777) x)';
CREATE AGGREGATE app.locked_sum(integer) (SFUNC = app.plus_locked, STYPE = integer, INITCOND = '0');
CREATE FUNCTION app.lock_eq(integer, integer) RETURNS boolean LANGUAGE sql
  AS 'SELECT $1 = $2 AND pg_try_advisory_lock(778)';
CREATE OPERATOR app.=~= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app.lock_eq);
CREATE FUNCTION app.is_ok(integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE DOMAIN app.ok_int AS integer CHECK (app.is_ok(VALUE));
CREATE TYPE app.mood AS ENUM ('ok', 'bad');
CREATE FUNCTION app.mood_of(integer) RETURNS app.mood LANGUAGE sql AS $$SELECT 'ok'::app.mood$$;
CREATE CAST (integer AS app.mood) WITH FUNCTION app.mood_of(integer);
CREATE FUNCTION app.get_password(integer) RETURNS text LANGUAGE sql SECURITY DEFINER
  AS 'SELECT password FROM app.users WHERE id = $1';
-- An operator class whose comparison function a sort through its operator
-- calls, with no call of it in the statement (the operators' own are harmless).
CREATE FUNCTION app.int_lt(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2';
CREATE FUNCTION app.int_eq(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE FUNCTION app.locking_cmp(integer, integer) RETURNS integer LANGUAGE sql
  AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END + (SELECT 0 FROM pg_advisory_lock(779) x)';
CREATE OPERATOR app.<<< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app.int_lt);
CREATE OPERATOR app.=#= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app.int_eq);
CREATE OPERATOR CLASS app.locking_int_ops FOR TYPE integer USING btree AS
  OPERATOR 1 app.<<<, OPERATOR 3 app.=#=, FUNCTION 1 app.locking_cmp(integer, integer);
CREATE TABLE app.tagged (id integer, tags hstore);
INSERT INTO app.tagged VALUES (1, 'a=>1');
-- Views in a schema an operator might trust, over blocked data and query text.
CREATE SCHEMA reports;
CREATE VIEW reports.all_secrets AS SELECT * FROM app.secrets;
CREATE VIEW reports.queries_now AS SELECT pid, query FROM pg_stat_activity;
CREATE VIEW reports.staff_public AS SELECT id, name FROM app.staff;
CREATE VIEW reports.mappings AS SELECT * FROM pg_user_mappings;
CREATE VIEW reports.napping AS SELECT app.nap(0.01)::text AS n;
CREATE VIEW reports.sleepy AS SELECT pg_sleep(0.01)::text AS s;
GRANT USAGE ON SCHEMA reports TO pgmcp_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA app, geo, reports TO pgmcp_reader;
-- Secrets in custom settings, as applications keep them (a JWT key for the
-- whole database, a tenant for the login), and the operator's own code that
-- reads them: a row security policy and a view.
ALTER DATABASE corpus SET app.jwt_secret = 'corpus-jwt-secret';
ALTER ROLE pgmcp_reader IN DATABASE corpus SET app.tenant = 'eu';
CREATE TABLE app.tenant_notes (tenant text, note text);
INSERT INTO app.tenant_notes VALUES ('eu', 'visible to eu'), ('us', 'visible to us');
ALTER TABLE app.tenant_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_only ON app.tenant_notes USING (tenant = current_setting('app.tenant', true));
CREATE VIEW app.my_tenant AS SELECT current_setting('app.tenant', true) AS tenant;
GRANT SELECT ON app.tenant_notes, app.my_tenant TO pgmcp_reader;
-- The login role keeps analysis trees out of the server log (PostgreSQL 15).
GRANT SET ON PARAMETER log_min_messages TO pgmcp_reader;
ANALYZE;

-- A database whose server reads backslashes in strings the old way: the
-- connection must force standard_conforming_strings = on.
CREATE DATABASE scs_off;
ALTER DATABASE scs_off SET standard_conforming_strings = off;

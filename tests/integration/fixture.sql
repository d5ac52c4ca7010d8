-- Integration fixture, loaded into the demo database after scripts/sql/demo.sql.
CREATE SCHEMA "Mixed Schema";
CREATE TABLE "Mixed Schema"."Odd Table" ("Col A" integer PRIMARY KEY, "lower col" text, "Quote""d" text);
INSERT INTO "Mixed Schema"."Odd Table" VALUES (1, 'one', 'q1'), (2, 'two', 'q2');
COMMENT ON TABLE "Mixed Schema"."Odd Table" IS 'Quoted, mixed-case names';
CREATE TABLE public.orders (id integer PRIMARY KEY, note text);  -- same name as shop.orders
INSERT INTO public.orders VALUES (1, 'a public order');
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
ANALYZE;

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

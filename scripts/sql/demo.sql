-- The demo database: a small shop with related tables, comments, a view, an
-- enum, and enough rows to be interesting. Deterministic (seeded).
SELECT setseed(0.42);

CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'An online shop: customers, products and their orders';

CREATE TYPE shop.order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled');

CREATE TABLE shop.customers (
  id          serial PRIMARY KEY,
  email       text NOT NULL UNIQUE,
  full_name   text NOT NULL,
  country     char(2) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  vip         boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE shop.customers IS 'People who have an account with the shop';
COMMENT ON COLUMN shop.customers.country IS 'ISO 3166-1 alpha-2 country code';

CREATE TABLE shop.products (
  id          serial PRIMARY KEY,
  sku         text NOT NULL UNIQUE,
  name        text NOT NULL,
  category    text NOT NULL,
  price       numeric(10, 2) NOT NULL CHECK (price >= 0),
  attributes  jsonb NOT NULL DEFAULT '{}',
  tags        text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE shop.products IS 'Everything the shop sells';
COMMENT ON COLUMN shop.products.price IS 'Unit price in EUR, VAT included';

CREATE TABLE shop.orders (
  id           serial PRIMARY KEY,
  customer_id  integer NOT NULL REFERENCES shop.customers (id),
  status       shop.order_status NOT NULL DEFAULT 'pending',
  ordered_at   timestamptz NOT NULL,
  shipped_at   timestamptz
);
COMMENT ON TABLE shop.orders IS 'One row per checkout';
CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
CREATE INDEX orders_ordered_at_idx ON shop.orders (ordered_at);

CREATE TABLE shop.order_items (
  order_id    integer NOT NULL REFERENCES shop.orders (id) ON DELETE CASCADE,
  product_id  integer NOT NULL REFERENCES shop.products (id),
  quantity    integer NOT NULL CHECK (quantity > 0),
  unit_price  numeric(10, 2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
COMMENT ON TABLE shop.order_items IS 'The lines of each order';

INSERT INTO shop.customers (email, full_name, country, created_at, vip)
SELECT 'customer' || g || '@example.com',
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken'])[1 + g % 8] || ' ' ||
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson'])[1 + (g / 8) % 8],
       (ARRAY['DE','FR','NL','SE','IT','ES','GB','US'])[1 + (g * 7) % 8],
       timestamptz '2024-01-01' + (g || ' hours')::interval * 7,
       g % 17 = 0
FROM generate_series(1, 500) g;

INSERT INTO shop.products (sku, name, category, price, attributes, tags)
SELECT 'SKU-' || lpad(g::text, 4, '0'),
       (ARRAY['Espresso cup','Tea pot','Chef knife','Cutting board','Wine glass','Frying pan','Apron','Kettle'])[1 + g % 8]
         || ' ' || g,
       (ARRAY['kitchen','tableware','textiles','appliances'])[1 + g % 4],
       round((5 + random() * 195)::numeric, 2),
       jsonb_build_object('color', (ARRAY['red','black','white','steel'])[1 + g % 4], 'weight_g', 100 + g * 13),
       ARRAY[(ARRAY['new','sale','bestseller','eco'])[1 + g % 4]]
FROM generate_series(1, 120) g;

INSERT INTO shop.orders (customer_id, status, ordered_at, shipped_at)
SELECT 1 + (g * 37) % 500,
       (ARRAY['pending','paid','shipped','delivered','delivered','delivered','cancelled']::shop.order_status[])[1 + g % 7],
       timestamptz '2024-03-01' + (g || ' minutes')::interval * 97,
       CASE WHEN g % 7 IN (2, 3, 4, 5) THEN timestamptz '2024-03-02' + (g || ' minutes')::interval * 97 END
FROM generate_series(1, 3000) g;

INSERT INTO shop.order_items (order_id, product_id, quantity, unit_price)
SELECT o.id, p.id, 1 + (o.id + p.id) % 4, p.price
FROM shop.orders o
JOIN LATERAL (SELECT id, price FROM shop.products WHERE id IN (1 + o.id % 120, 1 + (o.id * 7) % 120, 1 + (o.id * 13) % 120)) p ON true;

CREATE VIEW shop.order_totals AS
SELECT o.id AS order_id, o.customer_id, o.status, o.ordered_at,
       sum(i.quantity * i.unit_price) AS total, count(*) AS lines
FROM shop.orders o JOIN shop.order_items i ON i.order_id = o.id
GROUP BY o.id;
COMMENT ON VIEW shop.order_totals IS 'Each order with its total in EUR and number of lines';

ANALYZE;
GRANT USAGE ON SCHEMA shop TO pgmcp_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO pgmcp_reader;

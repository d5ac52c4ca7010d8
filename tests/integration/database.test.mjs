// pg-mcp against a real PostgreSQL, through the official MCP SDK client:
// every database tool, the value mapping, limits, timeouts, cancellation, a
// server restart, a database down at start-up, quoted names, two databases,
// and writes that must never change data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeConfig, readClusterEnv, PGMCP, connectStdio as connect, withStdioClient as withClient, UriTemplate } from '../e2e/lib.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const dsn = env.PGMCP_PG_DSN;
const inventoryDsn = dsn.replace(/\/demo$/, '/inventory');
const admin = (sql, db = 'demo') =>
  execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN.replace('dbname=demo', `dbname=${db}`), '-tAq', '-c', sql], { encoding: 'utf8' }).trim();



const one = `[database.demo]\nplugin = postgres\ndsn = ${dsn}\ndescription = The demo shop\n`;
const call = (client, name, args) => client.callTool({ name, arguments: args });
const text = (r) => r.content[0].text;

let client;
before(async () => { client = await connect(`${one}statement_timeout_ms = 1500\nallow_explain_analyze = true\nmax_result_bytes = 200000\n`); });
after(async () => { await client?.close(); });

test('list_databases names the database, its description, read-only', async () => {
  const r = await call(client, 'list_databases', {});
  assert.deepEqual(r.structuredContent, { databases: [{ name: 'demo', description: 'The demo shop', read_only: true }] });
});

test('execute_sql returns columns, rows, counts; params bind as $n', async () => {
  const r = await call(client, 'execute_sql', { sql: 'SELECT id, email FROM shop.customers WHERE country = $1 ORDER BY id LIMIT 3', params: ['DE'] });
  assert.equal(r.isError, undefined, text(r));
  const s = r.structuredContent;
  assert.equal(s.database, 'demo');
  assert.deepEqual(s.columns, [{ name: 'id', type: 'integer' }, { name: 'email', type: 'text' }]);
  assert.equal(s.row_count, 3);
  assert.equal(s.truncated, false);
  assert.equal(typeof s.duration_ms, 'number');
  // the text block carries the same rows once, as a table
  const lines = text(r).split('\n');
  assert.deepEqual(lines[0], 'id\temail');
  assert.deepEqual(lines.slice(1, 4), s.rows.map((row) => row.join('\t')));
  assert.match(lines[4], /^\(3 rows; tab-separated/);
  const expected = admin("SELECT count(*) FROM shop.customers WHERE country = 'DE'");
  const c = await call(client, 'execute_sql', { sql: 'SELECT count(*) AS n FROM shop.customers WHERE country = $1', params: ['DE'] });
  assert.equal(c.structuredContent.rows[0][0], Number(expected));
});

test('values map to JSON: numbers, exact numerics, NaN, json, arrays, ISO dates', async () => {
  const r = await call(client, 'execute_sql', { sql: `SELECT 1::int2 AS a, 9007199254740993::int8 AS b, 2.5::float8 AS c,
      'NaN'::float8 AS d, 'Infinity'::float4 AS e, 12.30::numeric(6,2) AS f, false AS g, NULL::text AS h,
      '{"k": [1, "x"]}'::jsonb AS i, '[1,2]'::json AS j, ARRAY[1, NULL, 3] AS k, ARRAY['a b', 'c"d'] AS l,
      ARRAY[[1.5, 2], [3, 4]]::float8[] AS m, date '2024-02-29' AS n, timestamptz '2024-01-02 03:04:05+00' AS o,
      'paid'::shop.order_status AS p, '\\x0a0b'::bytea AS q, 9007199254740991::int8 AS r` });
  assert.deepEqual(r.structuredContent.rows[0], [1, '9007199254740993', 2.5, 'NaN', 'Infinity', '12.30', false, null,
    { k: [1, 'x'] }, [1, 2], [1, null, 3], ['a b', 'c"d'], [[1.5, 2], [3, 4]], '2024-02-29', '2024-01-02 03:04:05+00',
    'paid', '\\x0a0b', 9007199254740991]);
});

test('types are named as format_type names them, the same in every tool', async () => {
  const r = await call(client, 'execute_sql', { sql: `SELECT 1::int8 AS a, ARRAY['x']::text[] AS b, 'paid'::shop.order_status AS c,
      'x'::varchar(20) AS d, 1.5::numeric(10,2) AS e, ARRAY['paid']::shop.order_status[] AS f, '1.2.3.4'::inet AS g,
      '$1.50'::money AS h, int4range(1, 5) AS i, now()::timestamptz(3) AS j, 'x'::char(3) AS k, true AS l, 1::float4 AS m` });
  assert.equal(r.isError, undefined, text(r));
  assert.deepEqual(r.structuredContent.columns.map((c) => c.type), ['bigint', 'text[]', 'shop.order_status',
    'character varying(20)', 'numeric(10,2)', 'shop.order_status[]', 'inet', 'money', 'int4range',
    'timestamp(3) with time zone', 'character(3)', 'boolean', 'real']);
  // describe_table says the same of a column of that type
  const d = await call(client, 'describe_table', { table: 'shop.orders' });
  const status = d.structuredContent.columns.find((c) => c.name === 'status');
  const viaSql = await call(client, 'execute_sql', { sql: 'SELECT status, id FROM shop.orders LIMIT 1' });
  assert.equal(viaSql.structuredContent.columns[0].type, status.type);
});

test('every array is a JSON array; bounds, json numbers and JSON null survive', async () => {
  const r = await call(client, 'execute_sql', { sql: `SELECT ARRAY[date '2024-01-01', NULL] AS a,
      ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid] AS b, ARRAY['paid', 'shipped']::shop.order_status[] AS c,
      '[0:2]={1,2,3}'::int[] AS d, ARRAY[[true], [false]] AS e, ARRAY['123456789012345678901234567890'::jsonb, '1.50', 'null', NULL] AS f,
      '{"n": 123456789012345678901234567890, "p": 1.50}'::jsonb AS g, 'null'::jsonb AS h, NULL::jsonb AS i,
      ARRAY[int4range(1, 3)] AS j, ARRAY[1.50]::numeric[] AS k, ARRAY[9007199254740993]::int8[] AS l` });
  assert.equal(r.isError, undefined, text(r));
  const row = r.structuredContent.rows[0];
  assert.deepEqual(row.slice(0, 5), [['2024-01-01', null], ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'], ['paid', 'shipped'],
    { lower_bounds: [0], values: [1, 2, 3] }, [[true], [false]]]);
  assert.deepEqual(row[5].slice(1), [1.5, { $json: null }, null]);
  assert.deepEqual(row.slice(7), [{ $json: null }, null, ['[1,3)'], ['1.50'], ['9007199254740993']]);
  // numbers inside json keep every digit PostgreSQL printed: the table shows the JSON as sent
  const cells = text(r).split('\n')[1].split('\t');
  assert.equal(cells[5], '[123456789012345678901234567890,1.50,{"$json":null},null]');
  assert.equal(cells[6], '{"n": 123456789012345678901234567890, "p": 1.50}');
  assert.deepEqual(cells.slice(7, 9), ['{"$json":null}', '\\N']);
});

test('a 1,000-row wide result with default limits reaches the SDK client whole, and the session goes on', async () => withClient(one, async (c) => {
  const cols = Array.from({ length: 20 }, (_, i) => `repeat(chr(${65 + i}), 800) AS c${i}`).join(', ');
  const r = await call(c, 'execute_sql', { sql: `SELECT g, ${cols} FROM generate_series(1, 1000) g` });
  assert.equal(r.isError, undefined, text(r));
  assert.equal(r.structuredContent.truncated_by, 'max_result_bytes');
  const size = Buffer.byteLength(JSON.stringify({ jsonrpc: '2.0', id: 1, result: r }));
  assert.ok(size <= 4 * 1024 * 1024, `${size} bytes`);
  assert.ok(r.structuredContent.row_count > 100, `${r.structuredContent.row_count} rows`);
  const next = await call(c, 'execute_sql', { sql: 'SELECT 7 AS n' });
  assert.deepEqual(next.structuredContent.rows, [[7]]);
}));

test('a result cut at max_rows keeps its connection: the server stops at the limit', async () => {
  // A billion rows: without the limit pushed down to the server this would
  // take a cancel and a new connection.
  const pids = new Set();
  for (let i = 0; i < 5; i++) {
    const r = await call(client, 'execute_sql', { sql: 'SELECT pg_backend_pid() AS pid, generate_series(1, 1000000000) AS g', max_rows: 3 });
    assert.equal(r.isError, undefined, text(r));
    assert.deepEqual(r.structuredContent.rows.map((row) => row[1]), [1, 2, 3]);
    assert.equal(r.structuredContent.truncated_by, 'max_rows');
    pids.add(r.structuredContent.rows[0][0]);
  }
  assert.equal(pids.size, 1, 'one connection served every cut result');
  // errors still point into the client's statement
  const pos = await call(client, 'execute_sql', { sql: "SELECT 'x'::int FROM generate_series(1, 3)" });
  assert.match(text(pos), /\(at character 8\)/);
});

test('json values with line breaks (EXPLAIN FORMAT JSON) keep the stdio message on one line', async () => {
  const r = await call(client, 'execute_sql', { sql: `SELECT E'{\\n  "a": [1,\\n 2]\\n}'::json AS j` });
  assert.equal(r.isError, undefined, text(r));
  assert.deepEqual(r.structuredContent.rows, [[{ a: [1, 2] }]]);
  const plan = await call(client, 'execute_sql', { sql: 'EXPLAIN (FORMAT JSON) SELECT 1' });
  assert.equal(plan.structuredContent.rows[0][0][0].Plan['Node Type'], 'Result');
});

test('results are cut by max_rows and by max_result_bytes, and say so', async () => {
  const rows = await call(client, 'execute_sql', { sql: 'SELECT id FROM public.wide ORDER BY id', max_rows: 5 });
  assert.equal(rows.structuredContent.row_count, 5);
  assert.equal(rows.structuredContent.truncated, true);
  assert.equal(rows.structuredContent.truncated_by, 'max_rows');
  const bytes = await call(client, 'execute_sql', { sql: 'SELECT id, payload FROM public.wide ORDER BY id' });
  assert.equal(bytes.structuredContent.truncated, true);
  assert.equal(bytes.structuredContent.truncated_by, 'max_result_bytes');
  // the whole answer fits max_result_bytes = 200000, not just the rows
  const size = Buffer.byteLength(JSON.stringify({ jsonrpc: '2.0', id: 1, result: bytes }));
  assert.ok(size <= 200000 && size > 150000, `${size} bytes`);
  assert.equal(bytes.structuredContent.rows.length, bytes.structuredContent.row_count);
  assert.equal(text(bytes).split('\n').length, bytes.structuredContent.row_count + 2);
  assert.match(text(bytes), /cut at max_result_bytes/);
  // The connection that was cut short is not reused dirty: the next call works.
  const after = await call(client, 'execute_sql', { sql: 'SELECT 42' });
  assert.deepEqual(after.structuredContent.rows, [[42]]);
});

test('SQL errors come back with SQLSTATE and position as tool errors', async () => {
  const r = await call(client, 'execute_sql', { sql: 'SELECT nope FROM shop.customers' });
  assert.equal(r.isError, true);
  assert.match(text(r), /ERROR 42703: column "nope" does not exist \(at character 8\)/);
  const multi = await call(client, 'execute_sql', { sql: 'SELECT 1; SELECT 2' });
  assert.equal(multi.isError, true);
  assert.match(text(multi), /2 statements given; send exactly one \(rule single_statement\)/);
});

test('a statement past statement_timeout_ms is stopped', async () => {
  const start = Date.now();
  // a read the policy passes, so the timeout is what stops it
  const r = await call(client, 'execute_sql', { sql: 'SELECT count(*) FROM generate_series(1, 1e10)' });
  assert.equal(r.isError, true);
  assert.match(text(r), /statement_timeout_ms = 1500/);
  assert.ok(Date.now() - start < 8000);
});

test('notifications/cancelled stops a long query on the server', async () => {
  const controller = new AbortController();
  const marker = `cancel_me_${Date.now()}`;
  const pending = client.callTool({ name: 'execute_sql', arguments: { sql: `SELECT count(*) FROM generate_series(1, 1e9) /* ${marker} */` } },
    undefined, { signal: controller.signal, timeout: 60000 });
  const running = () => Number(admin(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`));
  for (let i = 0; i < 50 && running() === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(running(), 1, 'the query started');
  controller.abort();
  await assert.rejects(pending);
  let left = 1;
  for (let i = 0; i < 40 && left > 0; i++) { await new Promise((r) => setTimeout(r, 50)); left = Number(admin(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND state = 'active' AND pid <> pg_backend_pid()`)); }
  assert.equal(left, 0, 'the server stopped the query');
  const ok = await call(client, 'execute_sql', { sql: 'SELECT 1' });
  assert.deepEqual(ok.structuredContent.rows, [[1]]);
});

test('describe_table: columns, keys both ways, indexes, comments; quoted and ambiguous names', async () => {
  const r = await call(client, 'describe_table', { table: 'shop.orders' });
  const d = r.structuredContent;
  assert.equal(d.kind, 'table');
  assert.equal(d.comment, 'One row per checkout');
  assert.deepEqual(d.primary_key, ['id']);
  assert.deepEqual(d.foreign_keys.map((f) => [f.columns, f.references.table]), [[['customer_id'], 'customers']]);
  assert.ok(d.referenced_by.some((f) => f.table === 'order_items' && f.columns[0] === 'order_id'));
  assert.deepEqual(d.indexes.find((i) => i.name === 'orders_customer_idx').columns, ['customer_id']);
  // key columns by name, expressions as written, included columns left out
  const pub = (await call(client, 'describe_table', { table: 'public.orders' })).structuredContent;
  assert.deepEqual(pub.indexes.find((i) => i.name === 'orders_note_idx').columns, ['lower(note)', 'id']);
  assert.ok(d.estimated_rows > 2000);
  const status = d.columns.find((c) => c.name === 'status');
  assert.deepEqual([status.type, status.nullable], ['shop.order_status', false]);

  const odd = await call(client, 'describe_table', { table: '"Mixed Schema"."Odd Table"' });
  assert.deepEqual(odd.structuredContent.columns.map((c) => c.name), ['Col A', 'lower col', 'Quote"d']);
  const folded = await call(client, 'describe_table', { table: 'Mixed Schema.Odd Table' });
  assert.equal(folded.isError, true);  // unquoted names fold to lower case
  const ambiguous = await call(client, 'describe_table', { table: 'orders' });
  assert.match(text(ambiguous), /several schemas; name one of: public\.orders, shop\.orders|several schemas; name one of: shop\.orders, public\.orders/);
  const view = await call(client, 'describe_table', { table: 'shop.order_totals' });
  assert.equal(view.structuredContent.kind, 'view');
  const rows = await call(client, 'execute_sql', { sql: 'SELECT "Col A", "Quote""d" FROM "Mixed Schema"."Odd Table" ORDER BY 1' });
  assert.deepEqual(rows.structuredContent.rows, [[1, 'q1'], [2, 'q2']]);
});

test('search_objects: kinds, patterns, detail levels, pagination', async () => {
  const names = await call(client, 'search_objects', { pattern: 'order', kind: 'table' });
  assert.deepEqual(names.structuredContent.objects.sort(), ['public.orders', 'shop.order_items', 'shop.orders']);
  const cols = await call(client, 'search_objects', { pattern: 'price', kind: 'column', detail: 'summary' });
  assert.ok(cols.structuredContent.objects.some((c) => c.table === 'products' && c.comment?.includes('EUR')));
  const like = await call(client, 'search_objects', { pattern: 'order%s', kind: 'table', schema: 'shop' });
  assert.deepEqual(like.structuredContent.objects.sort(), ['shop.order_items', 'shop.orders']);
  const page1 = await call(client, 'search_objects', { kind: 'column', limit: 3 });
  assert.equal(page1.structuredContent.objects.length, 3);
  const page2 = await call(client, 'search_objects', { kind: 'column', limit: 3, cursor: page1.structuredContent.next_cursor });
  assert.notDeepEqual(page2.structuredContent.objects, page1.structuredContent.objects);
  const enums = await call(client, 'search_objects', { kind: 'enum', detail: 'full' });
  assert.equal(enums.structuredContent.objects[0].labels, 'pending,paid,shipped,delivered,cancelled');
});

test('explain_query: a plan and a summary; analyze only where allowed', async () => {
  const r = await call(client, 'explain_query', { sql: 'SELECT * FROM shop.orders WHERE customer_id = 7' });
  assert.ok(Array.isArray(r.structuredContent.plan));
  assert.match(r.structuredContent.summary, /estimated cost/);
  const a = await call(client, 'explain_query', { sql: 'SELECT count(*) FROM shop.orders', analyze: true });
  assert.match(a.structuredContent.summary, /actually/);
  await withClient(one, async (strict) => {
    const refused = await call(strict, 'explain_query', { sql: 'SELECT 1', analyze: true });
    assert.equal(refused.isError, true);
    assert.match(text(refused), /allow_explain_analyze/);
  });
});

test('resources: the schema overview and a table by template', async () => {
  const { resources } = await client.listResources();
  assert.ok(resources.some((r) => r.uri === 'pgmcp://demo/schema'));
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.equal(resourceTemplates[0].uriTemplate, 'pgmcp://{database}/table/{schema}/{table}');
  const overview = JSON.parse((await client.readResource({ uri: 'pgmcp://demo/schema' })).contents[0].text);
  assert.ok(overview.schemas.find((s) => s.name === 'shop').tables.some((t) => t.name === 'order_totals' && t.kind === 'view'));
  const table = JSON.parse((await client.readResource({ uri: 'pgmcp://demo/table/shop/customers' })).contents[0].text);
  assert.deepEqual(table.primary_key, ['id']);
  await assert.rejects(client.readResource({ uri: 'pgmcp://demo/table/shop/nope' }), /Resource not found/);
  // A quoted, mixed-case table through the SDK's own template expansion,
  // which percent-encodes each variable; completion suggests what it encodes.
  const schemas = await client.complete({ ref: { type: 'ref/resource', uri: resourceTemplates[0].uriTemplate },
    argument: { name: 'schema', value: 'Mixed' }, context: { arguments: { database: 'demo' } } });
  assert.deepEqual(schemas.completion.values, ['Mixed Schema']);
  const expanded = new UriTemplate(resourceTemplates[0].uriTemplate)
    .expand({ database: 'demo', schema: schemas.completion.values[0], table: 'Odd Table' });
  assert.equal(expanded, 'pgmcp://demo/table/Mixed%20Schema/Odd%20Table');
  const odd = JSON.parse((await client.readResource({ uri: expanded })).contents[0].text);
  assert.equal(odd.name, 'Odd Table');
  assert.deepEqual(odd.columns.map((c) => c.name), ['Col A', 'lower col', 'Quote"d']);
  const completion = await client.complete({ ref: { type: 'ref/resource', uri: 'pgmcp://{database}/table/{schema}/{table}' },
    argument: { name: 'table', value: 'ord' }, context: { arguments: { database: 'demo', schema: 'shop' } } });
  assert.deepEqual(completion.completion.values.sort(), ['order_items', 'order_totals', 'orders']);
});

test('writes never change data, whatever their shape', async () => {
  const before = admin('SELECT (SELECT count(*) FROM shop.orders) || \',\' || (SELECT sum(quantity) FROM shop.order_items) || \',\' || (SELECT last_value FROM shop.orders_id_seq)');
  const attacks = [
    'DELETE FROM shop.orders',
    'UPDATE shop.order_items SET quantity = 0',
    'WITH d AS (DELETE FROM shop.orders RETURNING id) SELECT count(*) FROM d',
    "SELECT nextval('shop.orders_id_seq')",
    'SELECT * INTO shop.stolen FROM shop.customers',
    'CREATE TABLE shop.t (x int)',
    'DROP TABLE shop.order_items',
    'TRUNCATE shop.order_items',
    "DO $$ BEGIN DELETE FROM shop.orders; END $$",
    'COMMIT; DELETE FROM shop.orders',
    "SELECT set_config('transaction_read_only', 'off', false)",
    "COPY shop.orders FROM PROGRAM 'true'",
    'SELECT * FROM shop.orders FOR UPDATE',
    'LOCK TABLE shop.orders',
  ];
  for (const sql of attacks) {
    const r = await call(client, 'execute_sql', { sql });
    assert.equal(r.isError, true, `refused: ${sql} -> ${text(r)}`);
  }
  // Transaction control and settings may run, but only as the one statement of
  // a transaction that is rolled back: nothing can follow them there.
  for (const sql of ['ROLLBACK', 'COMMIT', 'BEGIN', 'SET TRANSACTION READ WRITE', 'SET default_transaction_read_only = off',
    "SELECT set_config('default_transaction_read_only', 'off', false)"]) await call(client, 'execute_sql', { sql });
  const stillRefused = await call(client, 'execute_sql', { sql: 'DELETE FROM shop.orders' });
  assert.equal(stillRefused.isError, true, 'the next call is read-only again');
  const afterState = admin('SELECT (SELECT count(*) FROM shop.orders) || \',\' || (SELECT sum(quantity) FROM shop.order_items) || \',\' || (SELECT last_value FROM shop.orders_id_seq)');
  assert.equal(afterState, before);
  assert.equal(admin("SELECT count(*) FROM pg_tables WHERE tablename IN ('stolen', 't')"), '0');
});

test('two databases at once, and one that is down at start-up', async () => withClient(`${one}[database.inventory]\nplugin = postgres\ndsn = ${inventoryDsn}\n` +
    `[database.gone]\nplugin = postgres\ndsn = postgresql://pgmcp_reader@127.0.0.1:1/nowhere\ndescription = Down\n`, async (c) => {
  const list = await call(c, 'list_databases', {});
  assert.deepEqual(list.structuredContent.databases.map((d) => d.name), ['demo', 'inventory', 'gone']);
  const ambiguous = await call(c, 'execute_sql', { sql: 'SELECT 1' });
  assert.match(text(ambiguous), /several databases are configured; name one with "database": demo, inventory, gone/);
  const stock = await call(c, 'execute_sql', { database: 'inventory', sql: 'SELECT quantity FROM stock ORDER BY sku' });
  assert.deepEqual(stock.structuredContent.rows, [[12], [0]]);
  const down = await call(c, 'execute_sql', { database: 'gone', sql: 'SELECT 1' });
  assert.equal(down.isError, true);
  assert.match(text(down), /database 'gone' is unavailable: cannot connect to 127\.0\.0\.1:1\/nowhere/);
  assert.match(c.stderr(), /database 'gone' is unavailable/);
  const demo = await call(c, 'execute_sql', { database: 'demo', sql: 'SELECT 1' });
  assert.deepEqual(demo.structuredContent.rows, [[1]]);
}));

test('passwords never reach logs or errors', async () => {
  const password = env.PGMCP_PG_DSN.match(/:([^:@]+)@/)[1];
  const wrong = dsn.replace(password, 'not-the-password');
  await withClient(`[server]\nlog_level = debug\n[database.demo]\nplugin = postgres\ndsn = ${wrong}\n`, async (c) => {
    const r = await call(c, 'execute_sql', { sql: 'SELECT 1' });
    assert.match(text(r), /password authentication failed/);
    assert.doesNotMatch(text(r), /not-the-password/);
    assert.doesNotMatch(c.stderr(), /not-the-password/);
    assert.ok(!c.stderr().includes(password));
  });
});

test('the pool recovers when PostgreSQL restarts', async () => {
  assert.deepEqual((await call(client, 'execute_sql', { sql: 'SELECT 1' })).structuredContent.rows, [[1]]);
  execFileSync(`${process.env.PGMCP_SOURCE_DIR}/scripts/pg-cluster`, ['restart', env.PGMCP_PG_DIR]);
  const r = await call(client, 'execute_sql', { sql: 'SELECT 2' });
  assert.equal(r.isError, undefined, text(r));
  assert.deepEqual(r.structuredContent.rows, [[2]]);
});

test('observability: metrics with their names, readiness per database, an audit line per statement', async () => {
  const { startHttp, post, MODERN_META, modernHeaders } = await import('../e2e/lib.mjs');
  const s = await startHttp(`[database.demo]\nplugin = postgres\ndsn = ${dsn}\n[database.gone]\nplugin = postgres\ndsn = postgresql://x@127.0.0.1:1/none\n`,
    { observability: '127.0.0.1:0', server: 'log_format = json\n' });
  try {
    for (let i = 0; i < 50 && !s.metricsUrl(); i++) await new Promise((r) => setTimeout(r, 20));
    const base = s.metricsUrl();
    assert.ok(base, s.stderr());
    // before any traffic: every family, with each configured database and each rule
    const cold = await (await fetch(`${base}/metrics`)).text();
    for (const series of ['pg_mcp_db_queries_total{database="demo",status="ok"} 0', 'pg_mcp_db_queries_total{database="gone",status="unavailable"} 0',
      'pg_mcp_db_query_duration_seconds_count{database="demo"} 0', 'pg_mcp_sql_rejections_total{database="demo",reason="blocked_tables"} 0',
      'pg_mcp_sql_rejections_total{database="gone",reason="read_only"} 0', 'pg_mcp_db_connections_opened_total{database="demo"}',
      'pg_mcp_schema_cache_age_seconds{database="gone"}', 'pg_mcp_http_dropped_total{reason="busy"} 0', 'pg_mcp_query_attempts_count 0'])
      assert.ok(cold.includes(series), `missing at start-up: ${series}`);
    const sql = (q) => post(s.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'execute_sql', arguments: { database: 'demo', sql: q }, _meta: MODERN_META } },
      modernHeaders('tools/call', 'execute_sql'));
    await sql('SELECT 1 AS audited_marker');
    await sql('SELECT nope');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /pg_mcp_db_queries_total\{database="demo",status="ok"\} 1/);
    assert.match(metrics, /pg_mcp_db_queries_total\{database="demo",status="error"\} 1/);
    assert.match(metrics, /pg_mcp_db_query_duration_seconds_bucket\{database="demo",le="0.005"\}/);
    // the calls' connection, and the start-up's if it ran beside them (the
    // schema and the policy's facts load on two at once)
    assert.match(metrics, /pg_mcp_db_pool_size\{database="demo",state="idle"\} [123]\n/);
    assert.match(metrics, /pg_mcp_schema_cache_age_seconds\{database="demo"\}/);
    assert.equal((await fetch(`${base}/health`)).status, 200);
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 503);
    const body = await ready.json();
    assert.deepEqual(body.databases.demo, { ok: true });
    assert.match(body.databases.gone.error, /unavailable/);
    const audit = s.stderr().split('\n').filter((l) => l.includes('"component":"audit"')).map((l) => JSON.parse(l));
    const line = audit.find((a) => a.statement === 'SELECT 1 AS audited_marker');
    assert.deepEqual([line.database, line.rows, line.outcome], ['demo', 1, 'ok']);
    assert.equal(typeof line.duration_ms, 'number');
    assert.match(audit.find((a) => a.statement === 'SELECT nope').outcome, /42703/);
  } finally {
    await s.stop();
  }
});

test('audit records follow log_level on stderr, and all go to audit_file as JSON lines', async () => {
  const { tempDir } = await import('../e2e/lib.mjs');
  const { readFileSync, statSync } = await import('node:fs');
  const file = `${tempDir()}/audit.jsonl`;
  await withClient(`[server]\nlog_level = warning\naudit_file = ${file}\n${one}`, async (c) => {
    const marker = `audit_sink_${Date.now()}`;
    const r = await call(c, 'execute_sql', { sql: `SELECT '${marker}' AS m` });
    assert.equal(r.isError, undefined, text(r));
    await call(c, 'execute_sql', { sql: 'DELETE FROM shop.orders' });
    assert.doesNotMatch(c.stderr(), /audit/);  // a stdio host shows stderr to its user
    const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const ran = records.find((a) => a.statement.includes(marker));
    assert.deepEqual([ran.component, ran.database, ran.outcome, ran.rows], ['audit', 'demo', 'ok', 1]);
    assert.equal(records.find((a) => a.statement === 'DELETE FROM shop.orders').rule, 'read_only');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});

// Waits until pred() holds, at most ms.
async function until(pred, ms = 8000) {
  const t0 = Date.now();
  while (!pred() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 50));
  return pred();
}

test('stdio, legacy era: list changes and subscribed updates when the schema changes, tools/list_changed on reload', async () => {
  const { ToolListChangedNotificationSchema, ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } = await import('../e2e/lib.mjs');
  await withClient(`${one}schema_ttl_s = 1\n`, async (c) => {
    const seen = [];
    c.setNotificationHandler(ToolListChangedNotificationSchema, (n) => { seen.push(n.method); });
    c.setNotificationHandler(ResourceListChangedNotificationSchema, (n) => { seen.push(n.method); });
    c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { seen.push(`${n.method} ${n.params.uri}`); });
    assert.ok(c.getServerCapabilities().resources.subscribe && c.getServerCapabilities().tools.listChanged);
    await c.readResource({ uri: 'pgmcp://demo/schema' });  // loads the schema cache
    await c.subscribeResource({ uri: 'pgmcp://demo/schema' });
    const table = `stdio_watch_${Date.now()}`;
    admin(`CREATE TABLE public.${table} (id integer)`);
    try {
      assert.ok(await until(() => seen.includes('notifications/resources/list_changed')), `got ${seen}`);
      assert.ok(await until(() => seen.includes('notifications/resources/updated pgmcp://demo/schema')), `got ${seen}`);
      process.kill(c.transport.pid, 'SIGHUP');
      assert.ok(await until(() => seen.includes('notifications/tools/list_changed')), `got ${seen}`);
    } finally {
      admin(`DROP TABLE public.${table}`);
    }
  });
});

test('stdio, 2026-07-28: subscriptions/listen is acknowledged, tags what it asked for, and ends when cancelled', async () => {
  const { spawn } = await import('node:child_process');
  const proc = spawn(PGMCP, ['--config', writeConfig(`${one}schema_ttl_s = 1\n`)], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = [];
  let buffer = '';
  proc.stdout.on('data', (d) => {
    buffer += d;
    for (let i; (i = buffer.indexOf('\n')) >= 0; buffer = buffer.slice(i + 1)) lines.push(JSON.parse(buffer.slice(0, i)));
  });
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const send = (m) => proc.stdin.write(`${JSON.stringify(m)}\n`);
  const table = `listen_watch_${Date.now()}`;
  try {
    send({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'pgmcp://demo/schema', _meta: meta } });
    assert.ok(await until(() => lines.some((l) => l.id === 1)));
    send({ jsonrpc: '2.0', id: 'watch', method: 'subscriptions/listen', params: { notifications: { resourcesListChanged: true, toolsListChanged: false }, _meta: meta } });
    assert.ok(await until(() => lines.some((l) => l.method === 'notifications/subscriptions/acknowledged')));
    const ack = lines.find((l) => l.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.params.notifications, { resourcesListChanged: true });
    assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 'watch');
    admin(`CREATE TABLE public.${table} (id integer)`);
    assert.ok(await until(() => lines.some((l) => l.method === 'notifications/resources/list_changed')));
    const n = lines.find((l) => l.method === 'notifications/resources/list_changed');
    assert.equal(n.params._meta['io.modelcontextprotocol/subscriptionId'], 'watch');
    assert.equal(lines.some((l) => l.method === 'notifications/resources/updated'), false, 'not asked for');
    assert.equal(lines.some((l) => l.id === 'watch'), false, 'the listen request stays open');
    // cancelled: no more notifications on it
    send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'watch' } });
    const before = lines.length;
    admin(`DROP TABLE public.${table}`);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(lines.slice(before).some((l) => l.method === 'notifications/resources/list_changed'), false);
    // a second listener is answered with its closing response when the client leaves
    send({ jsonrpc: '2.0', id: 'again', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: meta } });
    assert.ok(await until(() => lines.filter((l) => l.method === 'notifications/subscriptions/acknowledged').length === 2));
    const exited = new Promise((r) => proc.once('exit', r));
    proc.stdin.end();
    await exited;
    const closing = lines.find((l) => l.id === 'again');
    assert.equal(closing.result.resultType, 'complete');
  } finally {
    proc.kill();
    admin(`DROP TABLE IF EXISTS public.${table}`);
  }
});

test('a database rate limit refuses with a retry time and runs nothing', async () => withClient(
  `[rate_limiter.tight]\nplugin = token-bucket\nrate = 2/h\nburst = 2\n${one}rate_limiter = tight\nrate_limit_wait_ms = 50\n`, async (c) => {
    const marker = `rate_marker_${Date.now()}`;
    for (let i = 0; i < 2; i++) assert.equal((await call(c, 'execute_sql', { sql: 'SELECT 1' })).isError, undefined);
    const r = await call(c, 'execute_sql', { sql: `SELECT '${marker}'` });
    assert.equal(r.isError, true);
    assert.match(text(r), /rate limited on database 'demo', retry after \d+ s; nothing was run/);
    assert.equal(admin(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`), '0');
  }));

test('index definitions read as pg_get_indexdef writes them, and key columns by name, for every kind of index', async () => {
  // A database of its own: names that need quotes or are keywords, collations,
  // operator classes, orders, options, partial, expression, partitioned,
  // materialized view, INCLUDE; and constraints named by their columns.
  const db = `idxzoo_${process.pid}`;
  admin(`CREATE DATABASE ${db}`);
  try {
    const zoo = (sql) => admin(sql, db);
    zoo(`CREATE SCHEMA "Idx Zoo"; SET search_path = "Idx Zoo";
      CREATE TYPE mood AS ENUM ('a', 'b'); CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
      CREATE TABLE "order" ("select" int, "Mixed" text, v varchar(20), c text COLLATE "C", "spa ce" int, arr int[],
        m mood, d posint, ts tsvector, r int4range, j jsonb, "é" int, dropped int, CHECK ("spa ce" > "select"));
      ALTER TABLE "order" DROP COLUMN dropped;
      CREATE INDEX ON "order" ("select"); CREATE UNIQUE INDEX "Uniq" ON "order" ("Mixed", "select");
      CREATE INDEX ON "order" (v); CREATE INDEX ON "order" (c); CREATE INDEX ON "order" (c COLLATE "POSIX");
      CREATE INDEX ON "order" ("Mixed" COLLATE "C"); CREATE INDEX ON "order" ("select" DESC);
      CREATE INDEX ON "order" ("select" NULLS FIRST); CREATE INDEX ON "order" ("select") INCLUDE ("spa ce", "é");
      CREATE INDEX ON "order" USING hash ("Mixed"); CREATE INDEX ON "order" USING gin (arr);
      CREATE INDEX ON "order" USING gin (ts); CREATE INDEX ON "order" USING gist (r);
      CREATE INDEX ON "order" USING brin ("select"); CREATE INDEX ON "order" ("Mixed" text_pattern_ops);
      CREATE INDEX ON "order" ("select") WITH (fillfactor = 70); CREATE INDEX ON "order" ("select") WHERE "select" > 0;
      CREATE INDEX ON "order" (lower("Mixed"), "é"); CREATE UNIQUE INDEX ON "order" ("select") NULLS NOT DISTINCT;
      CREATE INDEX ON "order" (m); CREATE INDEX ON "order" (d); CREATE INDEX ON "order" USING gin (j jsonb_path_ops);
      CREATE INDEX ON "order" USING gin (j); CREATE INDEX ON "order" ("spa ce", "é", "select");
      CREATE TABLE parted (k int, v text) PARTITION BY RANGE (k);
      CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
      CREATE INDEX ON parted (k); CREATE UNIQUE INDEX ON parted (k, v);
      CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one; CREATE INDEX ON mv (one);
      CREATE TABLE "User" (id int, "E-mail" text, "order" int, x int, y int, z int, PRIMARY KEY ("order", id),
        UNIQUE ("E-mail"), UNIQUE (x) DEFERRABLE, UNIQUE (y) DEFERRABLE INITIALLY DEFERRED, UNIQUE NULLS NOT DISTINCT (z),
        UNIQUE (x, y) INCLUDE (z), UNIQUE (z, x) WITH (fillfactor = 70), CHECK (tableoid <> 0 AND x > 0));
      ALTER TABLE "User" ADD CONSTRAINT not_yet CHECK (y > 0) NOT VALID;
      CREATE TABLE ref ("a b" int, "c" int, FOREIGN KEY ("c", "a b") REFERENCES "User" ("order", id) ON DELETE CASCADE);
      CREATE TABLE "select" ("from" int PRIMARY KEY, "Ü" text UNIQUE);
      CREATE TABLE ex (r int4range, EXCLUDE USING gist (r WITH &&));
      GRANT USAGE ON SCHEMA "Idx Zoo" TO pgmcp_reader;
      GRANT SELECT ON ALL TABLES IN SCHEMA "Idx Zoo" TO pgmcp_reader;`);
    const expected = JSON.parse(zoo(`SELECT json_object_agg(c.relname, pg_get_indexdef(i.indexrelid))
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = '"Idx Zoo"'::regnamespace`));
    assert.ok(Object.keys(expected).length >= 30);
    // the driver's catalog query itself: every index's and constraint's
    // definition as the server's own functions write it (the constraints'
    // are not shown by any tool)
    const source = readFileSync(`${process.env.PGMCP_SOURCE_DIR}/plugins/driver-postgres/catalog.cpp`, 'utf8');
    // its parts: the common table expressions, then relations, columns, the rest
    const [common, , , others] = [...source.matchAll(/R"SQL\(([\s\S]*?)\)SQL"/g)].map((m) => m[1]);
    const catalog = `${common} ${others}`;
    const wrong = zoo(`WITH cat AS (${catalog}) SELECT coalesce(json_agg(json_build_array(cat.name, cat.definition, k.def)), '[]')
      FROM (SELECT * FROM cat) cat(kind, schema, name, tbl, type, definition)
      JOIN (SELECT 10, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = '"Idx Zoo"'::regnamespace
            UNION ALL SELECT 6, relname, pg_get_indexdef(oid) FROM pg_class WHERE relkind IN ('i', 'I')
              AND relnamespace = '"Idx Zoo"'::regnamespace) k(kind, name, def) ON k.kind = cat.kind AND k.name = cat.name
      WHERE cat.definition IS DISTINCT FROM k.def`);
    assert.deepEqual(JSON.parse(wrong), []);
    const constraints = Number(zoo(`SELECT count(*) FROM pg_constraint WHERE connamespace = '"Idx Zoo"'::regnamespace`));
    assert.ok(constraints >= 14, `${constraints} constraints`);
    await withClient(`[database.zoo]\nplugin = postgres\ndsn = ${dsn.replace(/\/demo$/, `/${db}`)}\n`, async (c) => {
      const seen = {};
      for (const table of ['order', 'parted', 'parted_1', 'mv', 'User', 'ref', 'select', 'ex']) {
        const d = (await call(c, 'describe_table', { table: `"Idx Zoo"."${table}"` })).structuredContent;
        for (const i of d.indexes) seen[i.name] = i;
        if (table === 'User') {
          assert.deepEqual(d.primary_key, ['order', 'id']);
          assert.deepEqual(Object.fromEntries(d.unique_constraints.map((u) => [u.name, u.columns])), {
            'User_E-mail_key': ['E-mail'], User_x_key: ['x'], User_y_key: ['y'], User_z_key: ['z'],
            User_x_y_z_key: ['x', 'y'], User_z_x_key: ['z', 'x'] });
        }
        if (table === 'ref')
          assert.deepEqual(d.foreign_keys.map((f) => [f.columns, f.references.columns]), [[['c', 'a b'], ['order', 'id']]]);
      }
      assert.deepEqual(Object.fromEntries(Object.entries(seen).map(([n, i]) => [n, i.definition])), expected);
      assert.deepEqual(seen.Uniq.columns, ['Mixed', 'select']);
      assert.deepEqual(seen['order_select_spa ce_é_idx'].columns, ['select'], 'INCLUDE columns are not keys');
      assert.deepEqual(seen['order_spa ce_é_select_idx'].columns, ['spa ce', 'é', 'select'], 'after a dropped column');
      assert.deepEqual(seen['order_lower_é_idx'].columns, ['lower("Mixed")', 'é']);
    });
  } finally {
    admin(`DROP DATABASE ${db} WITH (FORCE)`);
  }
});

test('the cleanliness check counts each thing a call could leave on a session', () => {
  // The check's text as the driver sends it, from its string literals.
  const source = readFileSync(`${process.env.PGMCP_SOURCE_DIR}/plugins/driver-postgres/postgres.cpp`, 'utf8');
  const body = source.slice(source.indexOf('kCleanCheck ='), source.indexOf(';', source.indexOf('kCleanCheck =')));
  const check = [...body.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join('');
  assert.match(check, /^SELECT /);
  // Each statement on its own (LISTEN takes effect when its transaction
  // commits), then the check, in one session.
  const fields = (setup) => {
    const args = [env.PGMCP_PG_ADMIN_DSN, '-tAq'];
    for (const s of setup.split(';').map((x) => x.trim()).filter(Boolean)) args.push('-c', s);
    const out = execFileSync('psql', [...args, '-c', check], { encoding: 'utf8' }).trim();
    return out.split('\n').pop().split('/').slice(0, 4);
  };
  assert.deepEqual(fields(''), ['0', '0', '0', '0'], 'a fresh session');
  // One session: a lock, a prepared statement, a held cursor, a channel.
  assert.deepEqual(
    fields("SELECT pg_advisory_lock(7101); PREPARE left_behind AS SELECT 1; DECLARE held CURSOR WITH HOLD FOR SELECT 1; LISTEN left_channel; "),
    ['1', '1', '1', '1'],
  );
  // Each alone, counted in its own place and only there.
  assert.deepEqual(fields('SELECT pg_advisory_lock(7102), pg_advisory_lock(7103); '), ['2', '0', '0', '0']);
  assert.deepEqual(fields('PREPARE a AS SELECT 1; PREPARE b AS SELECT 2; PREPARE c AS SELECT 3; '), ['0', '3', '0', '0']);
  assert.deepEqual(fields('LISTEN one; LISTEN two; '), ['0', '0', '0', '2']);
  assert.deepEqual(fields('SELECT pg_advisory_xact_lock(7104); '), ['0', '0', '0', '0'], 'a transaction lock is gone by then');
});

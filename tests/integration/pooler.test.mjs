// pg-mcp behind a real PgBouncer (Debian's) in transaction pooling mode, with
// `pooler = transaction`. The bouncer has one server connection, so pg-mcp
// and another client of the bouncer (psql) share it: what psql leaves on the
// session must not reach pg-mcp's statements, and what pg-mcp does must not
// reach psql.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { readClusterEnv, withStdioClient, tempDir } from '../e2e/lib.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const password = /:([^:@/]+)@/.exec(env.PGMCP_PG_DSN)[1];

const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// PgBouncer on loopback, as the postgres user (it refuses root).
async function startBouncer({ mode = 'transaction', poolSize = 1 } = {}) {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, 'userlist.txt'), `"pgmcp_reader" "${password}"\n`);
  writeFileSync(join(dir, 'pgbouncer.ini'), `[databases]
demo = host=127.0.0.1 port=${env.PGMCP_PG_PORT} dbname=demo
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${join(dir, 'userlist.txt')}
pool_mode = ${mode}
default_pool_size = ${poolSize}
max_client_conn = 100
logfile = ${join(dir, 'pgbouncer.log')}
pidfile = ${join(dir, 'pgbouncer.pid')}
`);
  for (const f of ['userlist.txt', 'pgbouncer.ini']) chmodSync(join(dir, f), 0o644);
  if (process.getuid() === 0) execFileSync('chown', ['postgres', dir]);  // its log and pid file
  const args = [join(dir, 'pgbouncer.ini')];
  const proc = process.getuid() === 0 ? spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', ...args], { stdio: 'ignore' })
    : spawn('pgbouncer', args, { stdio: 'ignore' });
  const dsn = `postgresql://pgmcp_reader:${password}@127.0.0.1:${port}/demo`;
  for (let i = 0; ; i++) {
    try { execFileSync('psql', [dsn, '-Atqc', 'SELECT 1'], { stdio: 'pipe' }); break; } catch (e) {
      if (i > 100) throw new Error(`pgbouncer did not start: ${e.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { dsn, stop: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.once('exit', r); execFileSync('pkill', ['-f', join(dir, 'pgbouncer.ini')]); }) };
}

// Another client of the bouncer: each psql run is a new client, on the same
// server connection (default_pool_size = 1).
const psql = (dsn, ...sql) => execFileSync('psql', [dsn, '-Atq', ...sql.flatMap((s) => ['-c', s])], { encoding: 'utf8' }).trim().split('\n');

let bouncer;
before(async () => { bouncer = await startBouncer(); });
after(async () => { await bouncer?.stop(); });

const config = (dsn, extra = '') => `[database.demo]\nplugin = postgres\ndsn = ${dsn}\npooler = transaction\nstatement_timeout_ms = 800\n${extra}`;
const call = (client, name, args) => client.callTool({ name, arguments: args });
const ok = (r) => { assert.equal(r.isError, undefined, r.content?.[0]?.text); return r; };

test('pgbouncer (transaction mode): every tool works, call after call on the shared server connection', async () => {
  await withStdioClient(config(bouncer.dsn), async (client) => {
    ok(await call(client, 'list_databases', {}));
    const found = ok(await call(client, 'search_objects', { pattern: 'orders' }));
    assert.match(found.content[0].text, /orders/);
    const table = ok(await call(client, 'describe_table', { table: 'shop.orders' }));
    assert.match(table.content[0].text, /customer_id/);
    ok(await call(client, 'explain_query', { sql: 'SELECT count(*) FROM shop.orders' }));
    // named statements are made and dropped inside each call's transaction:
    // twenty in a row on one server connection never collide
    for (let i = 0; i < 20; i++) {
      const r = ok(await call(client, 'execute_sql', { sql: 'SELECT count(*) AS n FROM shop.orders WHERE id > $1', params: [String(i)] }));
      assert.equal(typeof r.structuredContent.rows[0][0], 'number');
    }
    // a failing statement ends its transaction cleanly; the next call works
    const bad = await call(client, 'execute_sql', { sql: 'SELECT 1/0' });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /division by zero/);
    ok(await call(client, 'execute_sql', { sql: 'SELECT 1' }));
    const resources = await client.listResources();
    assert.ok(resources.resources.length > 0);
  });
  // nothing of pg-mcp's is left on the server connection
  assert.deepEqual(psql(bouncer.dsn, 'SELECT count(*) FROM pg_prepared_statements'), ['0']);
});

test('pgbouncer: what another client leaves on the shared session does not reach pg-mcp, and pg-mcp leaves nothing', async () => {
  // psql pollutes the one server connection, session-wide
  psql(bouncer.dsn, 'SET search_path = pg_temp, information_schema', 'SET statement_timeout = 0',
    'SET default_transaction_read_only = off', 'SET idle_in_transaction_session_timeout = 0');
  // (standard_conforming_strings cannot be left behind: PgBouncer sets it per client)
  assert.deepEqual(psql(bouncer.dsn, 'SHOW statement_timeout', 'SHOW search_path'), ['0', 'pg_temp, information_schema'], 'the pollution is on the shared session');
  await withStdioClient(config(bouncer.dsn), async (client) => {
    const r = ok(await call(client, 'execute_sql', {
      sql: `SELECT current_setting('transaction_read_only') AS ro, current_setting('statement_timeout') AS st,
              current_setting('standard_conforming_strings') AS scs, current_setting('search_path') AS sp,
              current_setting('idle_in_transaction_session_timeout') AS idle`,
    }));
    assert.deepEqual(r.structuredContent.rows[0], ['on', '800ms', 'on', '"$user", public', '1min']);
    // the timeout holds, whatever the session says
    const slow = await call(client, 'execute_sql', { sql: 'SELECT count(*) FROM generate_series(1, 1e10)' });
    assert.equal(slow.isError, true);
    assert.match(slow.content[0].text, /statement_timeout_ms = 800/);
  });
  // psql's session is as psql left it: pg-mcp's settings were all LOCAL
  assert.deepEqual(psql(bouncer.dsn, 'SHOW statement_timeout', 'SHOW search_path', 'SHOW default_transaction_read_only',
    'SHOW idle_in_transaction_session_timeout', 'SELECT count(*) FROM pg_prepared_statements'),
  ['0', 'pg_temp, information_schema', 'off', '0', '0']);
  psql(bouncer.dsn, 'RESET ALL');
});

test('pgbouncer: without pooler = transaction the bouncer refuses the startup options, and the error says so', async () => {
  const { runToExit, writeConfig } = await import('../e2e/lib.mjs');
  // stdio server: the first call connects
  await withStdioClient(`[database.demo]\nplugin = postgres\ndsn = ${bouncer.dsn}\n`, async (client) => {
    const r = await call(client, 'execute_sql', { sql: 'SELECT 1' });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /unsupported startup parameter: options.*set pooler = transaction/);
  });
  const bad = await runToExit(['--config', writeConfig(`[database.demo]\nplugin = postgres\ndsn = ${bouncer.dsn}\npooler = statement\n`), '--check-config']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /pooler.*'statement'; use none .* or transaction/);
});

test('pgbouncer: a write commits; a statement that would leave a temporary table on the shared session is undone and refused', async () => {
  const admin = (sql) => execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN, '-Atqc', sql], { encoding: 'utf8' }).trim();
  admin('CREATE TABLE pooler_log (id serial PRIMARY KEY, action text); GRANT SELECT, INSERT ON pooler_log TO pgmcp_reader; GRANT USAGE ON SEQUENCE pooler_log_id_seq TO pgmcp_reader');
  await withStdioClient(config(bouncer.dsn, 'allow_write = true\n'), async (client) => {
    ok(await call(client, 'execute_sql', { sql: "INSERT INTO public.pooler_log (action) VALUES ('through pgbouncer') RETURNING id" }));
    assert.equal(admin("SELECT count(*) FROM public.pooler_log WHERE action = 'through pgbouncer'"), '1', 'committed');
    const failed = await call(client, 'execute_sql', { sql: "INSERT INTO public.pooler_log (action) VALUES ('no such column', 1)" });
    assert.equal(failed.isError, true);
    const temp = await call(client, 'execute_sql', { sql: 'CREATE TEMP TABLE leftover AS SELECT 1 AS x' });
    assert.equal(temp.isError, true);
    assert.match(temp.content[0].text, /left the session unlike it found it.*nothing of it was committed/);
    ok(await call(client, 'execute_sql', { sql: 'SELECT 1' }));
  });
  // the bouncer's server connection went away with it: no other client sees the table
  assert.deepEqual(psql(bouncer.dsn, "SELECT count(*) FROM pg_class WHERE relname = 'leftover'"), ['0']);
  admin('DROP TABLE pooler_log');
});

// PostgreSQL enforcing what the policy decides, against a real server: the
// reader role that `pg-mcp --grants` makes, a differential test (whatever the
// policy admits, PostgreSQL's own privilege check for that role admits too),
// the warnings about privileged logins, one parser truth on a database that
// reads backslashes the old way, and connections proven clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeConfig, readClusterEnv, PGMCP, withStdioClient as withClient, startHttp, post, MODERN_META, modernHeaders } from '../e2e/lib.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const readerDsn = env.PGMCP_PG_DSN.replace(/\/demo$/, '/corpus');
const superDsn = env.PGMCP_PG_ADMIN_DSN.replace('dbname=demo', 'dbname=corpus');
const admin = (sql, db = 'corpus') =>
  execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN.replace('dbname=demo', `dbname=${db}`), '-tAq', '-c', sql], { encoding: 'utf8' }).trim();
const policy = `search_path = app, geo, public
blocked_tables = app.secrets, public.tokens, app.ledger_2025
blocked_columns = users.password, api_token, staff.ssn, people.ssn
blocked_functions = app.slow_echo, app.same
`;
const section = (login, extra = '') =>
  `[database.corpus]\nplugin = postgres\ndsn = ${login}\n${policy}${extra}`;
const call = (c, sql) => c.callTool({ name: 'execute_sql', arguments: { sql } });
const text = (r) => r.content[0].text;
const ROLE = 'pgmcp_corpus_reader';
// Polls until cond() holds (at most 10 s); fails the test if it never does.
async function waitFor(cond) {
  for (const end = Date.now() + 10000; Date.now() < end; await new Promise((r) => setTimeout(r, 20)))
    if (cond()) return;
  assert.fail('the condition never held within 10 s');
}

function pgmcp(args, ini) {
  return spawnSync(PGMCP, ['--config', writeConfig(ini), ...args], { encoding: 'utf8', timeout: 60000 });
}

// The corpus's statements, and statements generated from the fixture's
// catalog: every column of every table and view alone, every relation whole
// and as a whole row, and NATURAL joins of relations that share a column.
function statements() {
  const out = [];
  let current = null;
  for (const line of readFileSync(new URL('./policy_corpus.txt', import.meta.url), 'utf8').split('\n')) {
    if (/^@(allow|deny)/.test(line)) {
      current = [];
      out.push(current);
    } else if (current && !line.startsWith('#')) {
      current.push(line);
    }
  }
  const corpus = out.map((l) => l.join('\n').trim()).filter((s) => s.length > 0);
  const rows = admin(`SELECT n.nspname, c.relname, a.attname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE n.nspname IN ('app', 'geo', 'reports', 'public') AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2, a.attnum`).split('\n').map((l) => l.split('|'));
  const q = (s) => `"${s.replace(/"/g, '""')}"`;
  const tables = new Map();
  for (const [schema, table, column] of rows) {
    const key = `${q(schema)}.${q(table)}`;
    if (!tables.has(key)) tables.set(key, []);
    tables.get(key).push(column);
  }
  const generated = [];
  for (const [t, cols] of tables) {
    generated.push(`SELECT * FROM ${t} LIMIT 1`, `SELECT x FROM ${t} x LIMIT 1`, `SELECT count(*) FROM ${t}`);
    for (const c of cols) generated.push(`SELECT ${q(c)} FROM ${t} LIMIT 1`);
  }
  const names = [...tables.keys()];
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++)
      if (tables.get(names[i]).some((c) => tables.get(names[j]).includes(c)))
        generated.push(`SELECT count(*) FROM ${names[i]} NATURAL JOIN ${names[j]}`);
  return { corpus, generated };
}

test('--grants prints, and with --apply creates, a reader role with exactly what the policy allows', () => {
  const printed = pgmcp(['--grants', 'corpus', '--grants-role', ROLE], section(superDsn));
  assert.equal(printed.status, 0, printed.stderr);
  assert.match(printed.stdout, /CREATE ROLE "pgmcp_corpus_reader" NOLOGIN/);
  assert.match(printed.stdout, /GRANT SELECT \("id", "email", "password_policy", "region", "created_at", ctid, xmin, xmax, cmin, cmax, tableoid\) ON "app"\."users" TO "pgmcp_corpus_reader";/);
  assert.doesNotMatch(printed.stdout, /ON "app"\."secrets" TO/);
  const applied = pgmcp(['--grants', 'corpus', '--grants-role', ROLE, '--apply'], section(superDsn));
  assert.equal(applied.status, 0, applied.stderr);
  const can = (what) => admin(`SELECT ${what}`);
  assert.equal(can(`rolcanlogin FROM pg_roles WHERE rolname = '${ROLE}'`), 'f');
  assert.equal(can(`has_column_privilege('${ROLE}', 'app.users', 'email', 'SELECT')`), 't');
  assert.equal(can(`has_column_privilege('${ROLE}', 'app.users', 'password', 'SELECT')`), 'f');
  assert.equal(can(`has_column_privilege('${ROLE}', 'app.contractors', 'ssn', 'SELECT')`), 'f');
  assert.equal(can(`has_table_privilege('${ROLE}', 'app.secrets', 'SELECT')`), 'f');
  assert.equal(can(`has_table_privilege('${ROLE}', 'app.secrets_archive', 'SELECT')`), 'f');
  assert.equal(can(`has_table_privilege('${ROLE}', 'app.ledger', 'SELECT')`), 'f');
  assert.equal(can(`has_table_privilege('${ROLE}', 'app.ledger_2026', 'SELECT')`), 't');
  assert.equal(can(`has_table_privilege('${ROLE}', 'reports.all_secrets', 'SELECT')`), 'f');  // a view over a blocked table
  assert.equal(can(`has_table_privilege('${ROLE}', 'app.password_stats', 'SELECT')`), 'f');  // stores a blocked column
  assert.equal(can(`has_table_privilege('${ROLE}', 'app.remote_users', 'SELECT')`), 'f');  // foreign, not allowed
  assert.equal(can(`has_table_privilege('${ROLE}', 'app.orders', 'INSERT')`), 'f');
  // applying again after the policy tightened takes back what it no longer allows
  const tighter = section(superDsn).replace('staff.ssn', 'staff.ssn, orders.total');
  assert.equal(pgmcp(['--grants', 'corpus', '--grants-role', ROLE, '--apply'], tighter).status, 0);
  assert.equal(can(`has_column_privilege('${ROLE}', 'app.orders', 'total', 'SELECT')`), 'f');
  assert.equal(pgmcp(['--grants', 'corpus', '--grants-role', ROLE, '--apply'], section(superDsn)).status, 0);
  assert.equal(can(`has_column_privilege('${ROLE}', 'app.orders', 'total', 'SELECT')`), 't');
});

test('differential: whatever the policy admits, PostgreSQL admits for the reader role', async () => {
  // A superuser login that runs every statement as the reader role: a policy
  // pass that the role may not read fails with 42501 instead of reading.
  const { corpus, generated } = statements();
  assert.ok(generated.length >= 150, `${generated.length} generated statements`);
  const disagreements = [];
  let admitted = 0;
  let refused = 0;
  const passed = [];
  await withClient(section(superDsn, `role = ${ROLE}\nallowed_functions = geo.st_distance, app.locked_sum\n`), async (c) => {
    for (const sql of [...corpus, ...generated]) {
      const r = await call(c, sql);
      const t = r.isError ? text(r) : '';
      if (/\(rule [a-z_]+\)|nothing was run/.test(t)) {
        refused++;
        continue;
      }
      admitted++;
      passed.push(sql);
      if (t.startsWith('ERROR 42501')) disagreements.push(`${sql}\n    -> ${t}`);
    }
  });
  // and every admitted generated statement through EXPLAIN as the role itself
  const explainFailures = [];
  for (const sql of generated.filter((g) => passed.includes(g))) {
    const r = spawnSync('psql', [superDsn, '-tAq', '-c', `SET ROLE ${ROLE}`, '-c', `EXPLAIN ${sql}`], { encoding: 'utf8' });
    if (/permission denied/.test(r.stderr)) explainFailures.push(`${sql}: ${r.stderr}`);
  }
  assert.deepEqual(disagreements, [], `${disagreements.length} statements the policy admitted and PostgreSQL refused:\n${disagreements.join('\n')}`);
  assert.deepEqual(explainFailures, []);
  assert.ok(admitted > 200 && refused > 200, `${admitted} admitted, ${refused} refused`);
  console.log(`# differential: ${corpus.length + generated.length} statements, ${admitted} admitted by the policy and by PostgreSQL for ${ROLE}, ${refused} refused by the policy or by PostgreSQL before anything ran, 0 disagreements`);
});

test('a superuser login, or a role that can read blocked columns, is warned about loudly', async () => {
  const check = pgmcp(['--check-config'], section(superDsn));
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stderr, /database 'corpus': the login role 'postgres' is a superuser/);
  assert.match(check.stderr, /pg-mcp --grants corpus/);
  const reader = pgmcp(['--check-config'], section(readerDsn));
  assert.match(reader.stderr, /role 'pgmcp_reader' can read \d+ object\(s\) the policy blocks \([^)]*app\.users\.password/);
  assert.doesNotMatch(reader.stderr, /is a superuser/);
  // run as the reader role made by --grants: nothing blocked is readable, nothing to say about it
  const confined = pgmcp(['--check-config'], section(superDsn, `role = ${ROLE}\n`));
  assert.doesNotMatch(confined.stderr, /can read \d+ object/);
  assert.match(confined.stderr, /is a superuser/);  // the login still is
  assert.doesNotMatch(confined.stderr, /pg_read_all_settings/);
  // a monitoring role sees the settings that hold passwords in pg_settings
  admin("DO $$ BEGIN CREATE ROLE pgmcp_watch NOLOGIN IN ROLE pg_monitor; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
  const watcher = pgmcp(['--check-config'], section(superDsn, 'role = pgmcp_watch\n'));
  assert.match(watcher.stderr, /role 'pgmcp_watch' has the privileges of pg_read_all_settings \(pg_monitor includes them\), so pg_settings and SHOW ALL show it primary_conninfo/);
  await withClient(section(superDsn), async (c) => {
    // said once the database is reached, in the background after start-up
    await waitFor(() => /database 'corpus' is ready/.test(c.stderr()));
    assert.match(c.stderr(), /\[security\] database 'corpus': the login role 'postgres' is a superuser/);
  });
});

test('one parser truth: a database that reads backslashes the old way is read as pg-mcp reads it', async () => {
  assert.equal(admin('SHOW standard_conforming_strings', 'scs_off'), 'off');
  const dsn = env.PGMCP_PG_DSN.replace(/\/demo$/, '/scs_off');
  await withClient(`[database.scs]\nplugin = postgres\ndsn = ${dsn}\n`, async (c) => {
    const shown = await call(c, 'SHOW standard_conforming_strings');
    assert.deepEqual(shown.structuredContent.rows, [['on']]);
    // With the server reading \' as a quote this would call pg_sleep; read as
    // the parser reads it, it is one harmless string.
    const start = Date.now();
    const r = await call(c, "SELECT 'x\\'' , pg_sleep(3) -- ' AS v");
    assert.equal(r.isError, undefined, text(r));
    assert.deepEqual(r.structuredContent.rows, [["x\\' , pg_sleep(3) -- "]]);
    assert.ok(Date.now() - start < 2500, 'nothing slept');
    assert.deepEqual((await call(c, "SELECT 'a\\' AS v")).structuredContent.rows, [['a\\']]);
  });
});

test('a connection that a call left dirty is never pooled again, even when the policy did not foresee it', async () => {
  // app.locker is an alias of pg_advisory_lock the operator allowed by name:
  // nothing tells the policy it takes a lock; the check after the call does.
  await withClient(section(readerDsn, 'pool_max = 1\nallowed_functions = app.locker\n'), async (c) => {
    const first = await call(c, 'SELECT pg_backend_pid() AS pid, app.locker(4242)::text AS locked');
    assert.equal(first.isError, undefined, text(first));
    const second = await call(c, 'SELECT pg_backend_pid() AS pid');
    assert.notEqual(second.structuredContent.rows[0][0], first.structuredContent.rows[0][0], 'a fresh connection');
    for (let i = 0; i < 40 && admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242") !== '0'; i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.equal(admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"), '0');
    // an ordinary call keeps its connection
    const third = await call(c, 'SELECT pg_backend_pid() AS pid');
    assert.equal(third.structuredContent.rows[0][0], second.structuredContent.rows[0][0], 'a clean connection is reused');
  });
});

test('a sort through an operator is judged by the comparison function of its operator class too', async () => {
  // app.<<< and app.=#= call harmless allowed functions; their btree class
  // compares with app.locking_cmp, which takes an advisory lock: a sort
  // calls it with no call of it in the statement.
  const sorted = 'SELECT id FROM orders ORDER BY id USING OPERATOR(app.<<<) LIMIT 3';
  await withClient(section(readerDsn, 'pool_max = 1\nallowed_functions = app.int_lt, app.int_eq\n'), async (c) => {
    const r = await call(c, sorted);
    assert.equal(r.isError, true);
    assert.match(text(r), /user-defined function app\.locking_cmp is not on the allow-list \(called by the sort or hash support of an operator\) \(rule functions\); allowed_functions = app\.locking_cmp/);
    assert.equal(admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 779"), '0');
    // the operators' own use in a filter could scan an index of that class: refused alike
    assert.equal((await call(c, 'SELECT id FROM orders WHERE id OPERATOR(app.=#=) 3')).isError, true);
    // the default order of integers is not that class's
    const plain = await call(c, 'SELECT id FROM orders WHERE id < 4 ORDER BY id');
    assert.deepEqual(plain.structuredContent.rows, [[1], [2], [3]], text(plain));
  });
  // no operator in sight: equal arrays compare hstore values with the
  // functions of hstore's default classes, which must be allowed like its I/O
  const io = 'public.hstore_in, public.hstore_out, public.hstore_recv, public.hstore_send, public.hstore_subscript_handler';
  const arrays = 'SELECT ARRAY[tags] = ARRAY[tags] AS same FROM tagged';
  await withClient(section(readerDsn, `allowed_functions = ${io}\n`), async (c) => {
    const r = await call(c, arrays);
    assert.match(text(r), /function of extension hstore, public\.hstore_(cmp|eq|ge|gt|hash|hash_extended|le|lt) is not on the allow-list .*\(rule functions\)/);
    assert.deepEqual((await call(c, 'SELECT tags::text AS t FROM tagged')).structuredContent.rows, [['"a"=>"1"']]);
  });
  await withClient(section(readerDsn, 'allowed_functions = public.*\n'), async (c) => {
    assert.deepEqual((await call(c, arrays)).structuredContent.rows, [[true]]);
  });
  // allowed knowingly, the sort runs, and the lock it took shows it was called
  await withClient(section(readerDsn, 'pool_max = 1\nallowed_functions = app.int_lt, app.int_eq, app.locking_cmp\n'), async (c) => {
    const r = await call(c, `SELECT pg_backend_pid() AS pid, id FROM (${sorted}) s`);
    assert.deepEqual(r.structuredContent.rows.map((row) => row[1]), [1, 2, 3], text(r));
    const next = await call(c, 'SELECT pg_backend_pid() AS pid');
    assert.notEqual(next.structuredContent.rows[0][0], r.structuredContent.rows[0][0], 'the dirty connection was closed');
  });
});

test('a statement kept analysed on its connection is judged again whenever the catalog under it changes', async () => {
  const view = `app.kept_${process.pid}`;
  const pid = async (c) => (await call(c, 'SELECT pg_backend_pid() AS pid')).structuredContent.rows[0][0];
  const kept = async (c) =>
    (await call(c, "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'pgmcp\\_kept\\_%'")).structuredContent.rows[0][0];
  const table = `app.kept_rls_${process.pid}`;
  admin(`CREATE VIEW ${view} AS SELECT 1 AS a; GRANT SELECT ON ${view} TO PUBLIC`);
  admin(`CREATE TABLE ${table} (a int); INSERT INTO ${table} VALUES (1); GRANT SELECT ON ${table} TO PUBLIC`);
  try {
    await withClient(section(readerDsn, 'pool_max = 1\n'), async (c) => {
      const backend = await pid(c);
      const q = `SELECT a FROM ${view}`;
      for (let i = 0; i < 3; i++) assert.deepEqual((await call(c, q)).structuredContent.rows, [[1]]);
      assert.equal(await kept(c), 3, 'the pid query, the view query and this one are kept');
      // A row security policy put on a table under a kept statement: the
      // rewriter adds its condition, so the server analyses the statement
      // again, and a blocked function in the condition is refused.
      const t = `SELECT a FROM ${table}`;
      for (let i = 0; i < 2; i++) assert.deepEqual((await call(c, t)).structuredContent.rows, [[1]]);
      admin(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON ${table} USING (app.slow_echo(a) = 1)`);
      const rls = await call(c, t);
      assert.equal(rls.isError, true, text(rls));
      assert.match(text(rls), /slow_echo/);
      admin(`DROP POLICY p ON ${table}; CREATE POLICY p ON ${table} USING (a = 1)`);
      assert.deepEqual((await call(c, t)).structuredContent.rows, [[1]]);
      // The view now calls a function the policy blocks: the same text, kept
      // on the connection, is analysed again by the server and refused.
      admin(`CREATE OR REPLACE VIEW ${view} AS SELECT app.slow_echo(1) AS a`);
      const refused = await call(c, q);
      assert.equal(refused.isError, true, text(refused));
      assert.match(text(refused), /slow_echo/);
      // Or reads a blocked column to make the one the statement selects.
      admin(`CREATE OR REPLACE VIEW ${view} AS SELECT 1 AS a`);
      assert.deepEqual((await call(c, q)).structuredContent.rows, [[1]]);
      admin(`CREATE OR REPLACE VIEW ${view} AS SELECT length(u.password) AS a FROM app.users u`);
      const column = await call(c, q);
      assert.equal(column.isError, true, text(column));
      assert.match(text(column), /password/);
      // Put back, kept again; then dropped under it: the server's error, not a crash.
      admin(`CREATE OR REPLACE VIEW ${view} AS SELECT 1 AS a`);
      assert.deepEqual((await call(c, q)).structuredContent.rows, [[1]]);
      admin(`DROP VIEW ${view}`);
      const gone = await call(c, q);
      assert.equal(gone.isError, true);
      assert.match(text(gone), /does not exist/);
      // Made anew under the same name: another relation to the server, which
      // the policy does not know yet (as for a statement never kept).
      admin(`CREATE VIEW ${view} AS SELECT 2 AS a; GRANT SELECT ON ${view} TO PUBLIC`);
      const anew = await call(c, q);
      assert.equal(anew.isError, true);
      assert.match(text(anew), /not in pg-mcp's catalog/);
      // Every call left the session as clean as a fresh one: still the same backend.
      assert.equal(await pid(c), backend);
    });
    // A cache of two, cycled through by three statements: each run correct,
    // the ones let go of deallocated (the session stays clean).
    await withClient(section(readerDsn, 'pool_max = 1\nstatement_cache = 2\n'), async (c) => {
      const backend = await pid(c);
      for (let round = 0; round < 3; round++)
        for (const n of [1, 2, 3]) assert.deepEqual((await call(c, `SELECT ${n} AS n`)).structuredContent.rows, [[n]]);
      assert.equal(await kept(c), 3, 'two kept, and this one until the call ends');
      assert.equal(await pid(c), backend);
    });
    await withClient(section(readerDsn, 'pool_max = 1\nstatement_cache = 0\n'), async (c) => {
      await call(c, 'SELECT 1 AS one');
      assert.equal(await kept(c), 0, 'nothing is kept');
    });
  } finally {
    admin(`DROP VIEW IF EXISTS ${view}; DROP TABLE IF EXISTS ${table}`);
  }
});

test('a long flat expression gets an error, not a crash, and the server keeps serving', async () => {
  const terms = Array(20000).fill('1').join('+');
  await withClient(section(readerDsn), async (c) => {
    const plain = await call(c, `SELECT ${terms}`);
    assert.equal(plain.isError, true);
    assert.match(text(plain), /ERROR 54001: stack depth limit exceeded.*nothing was run/);
    const explained = await call(c, `EXPLAIN SELECT ${terms}`);
    assert.match(text(explained), /nests up to 20002 levels deep.*\(rule complexity\)/);
    const strings = await call(c, `SELECT ${Array(20000).fill("'a'").join('||')}`);
    assert.equal(strings.isError, true);
    // longer still: refused for its length before anything is parsed or analysed
    const longer = await call(c, `SELECT ${Array(70000).fill('1').join('+')}`);
    assert.match(text(longer), /has 140000 tokens, more than the 50000.*\(rule complexity\)/);
    const list = await call(c, `SELECT count(*) FROM generate_series(1, 10) g WHERE g IN (${Array.from({ length: 60000 }, (_, i) => i).join(',')})`);
    assert.match(text(list), /more than the 50000.*array parameter/);
    assert.deepEqual((await call(c, 'SELECT 1 AS alive')).structuredContent.rows, [[1]]);
  });
});

test('a frozen backend yields an error within statement_timeout plus a grace; other databases keep serving', async () => {
  const other = env.PGMCP_PG_DSN;  // demo, on its own pool
  const ini = `${section(readerDsn, 'pool_max = 1\nstatement_timeout_ms = 1000\n')}\n[database.demo]\nplugin = postgres\ndsn = ${other}\n`;
  await withClient(ini, async (c) => {
    // the one connection must not be frozen under the start-up's background work
    await waitFor(() => /database 'corpus' is ready/.test(c.stderr()));
    const pid = (await c.callTool({ name: 'execute_sql', arguments: { database: 'corpus', sql: 'SELECT pg_backend_pid() AS pid' } })).structuredContent.rows[0][0];
    process.kill(pid, 'SIGSTOP');
    try {
      const start = Date.now();
      const frozen = await c.callTool({ name: 'execute_sql', arguments: { database: 'corpus', sql: 'SELECT 1' } });
      const took = Date.now() - start;
      assert.equal(frozen.isError, true);
      assert.match(text(frozen), /ran longer than statement_timeout_ms|did not answer within/);
      assert.ok(took < 4000, `answered after ${took} ms`);
      const meanwhile = await c.callTool({ name: 'execute_sql', arguments: { database: 'demo', sql: 'SELECT 1 AS ok' } });
      assert.deepEqual(meanwhile.structuredContent.rows, [[1]]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // the frozen connection was given up: the next call gets a fresh one
    const after = await c.callTool({ name: 'execute_sql', arguments: { database: 'corpus', sql: 'SELECT pg_backend_pid() AS pid' } });
    assert.equal(after.isError, undefined, text(after));
    assert.notEqual(after.structuredContent.rows[0][0], pid);
  });
});

test('bad inputs get clear errors, keep the connection, and leak no secret', async () => {
  await withClient(section(readerDsn, 'pool_max = 1\n'), async (c) => {
    const args = (a) => c.callTool({ name: 'execute_sql', arguments: a });
    const pid = (await args({ sql: 'SELECT pg_backend_pid() AS pid' })).structuredContent.rows[0][0];
    assert.match(text(await args({ sql: 'SELECT 1\u0000; DELETE FROM orders' })), /NUL byte \(U\+0000\) at character 9.*\(rule syntax\)/);
    assert.match(text(await args({ sql: 'SELECT 1', max_rows: 18446744073709551615 })), /max_rows = \S+ is not a whole number from 1 to 9223372036854775807/);
    const wrong = await args({ sql: 'SELECT $1::int + $2::int', params: ['1'] });
    assert.match(text(wrong), /ERROR 08P01: bind message supplies 1 parameters.*HINT: send as many params/);
    const same = await args({ sql: 'SELECT pg_backend_pid() AS pid' });
    assert.equal(same.structuredContent.rows[0][0], pid, 'the caller\'s mistake kept the connection');
  });
  // a password libpq quotes in its parse error stays out of the message
  const r = pgmcp(['--check-config'], '[database.x]\nplugin = postgres\ndsn = postgresql://u:s3cr3t%zzpw@127.0.0.1/db\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid percent-encoded token: "\(redacted\)"/);
  assert.doesNotMatch(r.stderr, /s3cr3t/);
});

test('SIGTERM with a query in flight: /ready turns 503, the query is cancelled in PostgreSQL, its caller is told, the process exits', async () => {
  const marker = `drain-${Date.now()}`;
  const s = await startHttp(section(readerDsn), { observability: '127.0.0.1:0' });
  let metrics;
  for (let i = 0; i < 50 && !(metrics = s.metricsUrl()); i++) await new Promise((r) => setTimeout(r, 20));
  const long = post(s.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'execute_sql',
    arguments: { sql: `SELECT count(*) /* ${marker} */ FROM generate_series(1, 400000000)` }, _meta: MODERN_META } },
  modernHeaders('tools/call', 'execute_sql'));
  const activity = () => admin(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`);
  for (let i = 0; i < 100 && activity() === '0'; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(activity(), '1', 'the query runs');
  const exited = new Promise((r) => s.proc.once('exit', (code) => r(code)));
  const start = Date.now();
  s.proc.kill('SIGTERM');
  // once the signal is taken (asked before, /ready may still answer 200)
  for (let i = 0; i < 100 && !/SIGTERM: draining/.test(s.stderr()); i++) await new Promise((r) => setTimeout(r, 10));
  const ready = await fetch(`${metrics}/ready`).catch(() => null);
  if (ready) assert.equal(ready.status, 503);
  const answer = await long;
  assert.match(answer.json.result.content[0].text, /pg-mcp is shutting down: the statement was cancelled in PostgreSQL/);
  assert.equal(await exited, 0);
  assert.ok(Date.now() - start < 10000, `exited after ${Date.now() - start} ms`);
  assert.equal(activity(), '0', 'the query is gone from pg_stat_activity');
  assert.match(s.stderr(), /SIGTERM: draining/);
});


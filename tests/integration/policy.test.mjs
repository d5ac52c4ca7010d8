// The SQL safety policy against a real PostgreSQL, through the official MCP
// SDK client: the corpus (attacks and real analytic reads), proof from the
// server's own statement log that refused statements never arrived, the
// rejection metric and audit line, connections that come back clean, and
// allow_write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeConfig, readClusterEnv, startHttp, post, MODERN_META, modernHeaders, PGMCP, connectStdio as connect, withStdioClient as withClient } from '../e2e/lib.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const dsn = env.PGMCP_PG_DSN.replace(/\/demo$/, '/corpus');
const admin = (sql) =>
  execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN.replace('dbname=demo', 'dbname=corpus'), '-tAq', '-c', sql], { encoding: 'utf8' }).trim();
// The superuser, over the socket: the policy must hold even then.
const superDsn = env.PGMCP_PG_ADMIN_DSN.replace('dbname=demo', 'dbname=corpus');
const policy = `search_path = app, geo, public
blocked_tables = app.secrets, public.tokens, app.ledger_2025
blocked_columns = users.password, api_token, staff.ssn, people.ssn
blocked_functions = app.slow_echo, app.same
`;
const section = (extra = '', allowed = 'geo.st_distance, app.locked_sum', login = dsn) =>
  `[database.corpus]\nplugin = postgres\ndsn = ${login}\n${policy}allowed_functions = ${allowed}\n${extra}`;
const call = (c, args) => c.callTool({ name: 'execute_sql', arguments: args });
const text = (r) => r.content[0].text;



// @allow / @deny RULE headers, each followed by one statement.
function loadCorpus() {
  const cases = [];
  let current = null;
  for (const line of readFileSync(new URL('./policy_corpus.txt', import.meta.url), 'utf8').split('\n')) {
    const header = line.match(/^@(allow|deny)(?:\s+(\S+))?\s*$/);
    if (header) {
      current = { verdict: header[1], rule: header[2] ?? null, lines: [] };
      cases.push(current);
    } else if (current && !line.startsWith('#')) {
      current.lines.push(line);
    }
  }
  return cases.map((c, i) => ({ ...c, id: i + 1, sql: c.lines.join('\n').trim() }));
}

// Runs every corpus case through the official client; returns the cases with
// their markers, after checking each verdict.
async function runCorpus(login) {
  const cases = loadCorpus();
  assert.ok(cases.length >= 400, `the corpus has ${cases.length} cases`);
  assert.ok(cases.every((c) => c.sql.length > 0 || c.rule === 'single_statement'));
  const problems = [];
  const run = `${Date.now()}-${login === dsn ? 'reader' : 'super'}`;
  await withClient(section('', undefined, login), async (client) => {
    for (const c of cases) {
      // A marker in a comment shows whether the statement reached the server's log.
      const marker = `corpus-${run}-${c.id}-`;
      const sql = `/* ${marker} */ ${c.sql}`;
      if (process.env.PGMCP_TRACE) console.log(`# case ${c.id}`);
      const r = await call(client, { sql });
      const got = r.isError ? text(r) : null;
      if (c.verdict === 'allow') {
        if (got !== null) problems.push(`#${c.id} false refusal or failure: ${c.sql}\n    -> ${got}`);
      } else if (got === null) {
        problems.push(`#${c.id} FALSE PASS (expected rule ${c.rule}): ${c.sql}`);
      } else if (!got.includes(`(rule ${c.rule})`) && !(c.rule === 'relations' && got.startsWith('ERROR 42501:'))) {
        problems.push(`#${c.id} wrong rule (expected ${c.rule}): ${c.sql}\n    -> ${got}`);
      }
      c.marker = marker;
    }
  });
  assert.deepEqual(problems, [], `${problems.length} of ${cases.length} cases wrong:\n${problems.join('\n')}`);

  // The server logs every statement it runs in this database (log_statement =
  // all). A refused statement may have been parsed and analysed, never run.
  let log = '';
  for (let i = 0; i < 40; i++) {
    log = readFileSync(`${env.PGMCP_PG_DIR}/server.log`, 'utf8');
    if (log.includes(cases.filter((c) => c.verdict === 'allow').at(-1).marker)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const allowed = cases.filter((c) => c.verdict === 'allow');
  const denied = cases.filter((c) => c.verdict === 'deny');
  assert.deepEqual(allowed.filter((c) => !log.includes(c.marker)).map((c) => c.id), [], 'every allowed case ran on the server');
  assert.deepEqual(denied.filter((c) => log.includes(c.marker)).map((c) => c.sql), [], 'no refused statement ran on the server');
  console.log(`# corpus as ${login === dsn ? 'the reader login' : 'a superuser'}: ${cases.length} cases (${allowed.length} reads passed, ${denied.length} refused), 0 false passes, 0 false refusals`);
  return cases;
}

test('the corpus, as a least-privileged login: zero false passes, zero false refusals, refused statements never run', async () => {
  await runCorpus(dsn);
});

test('the corpus, as a superuser login: the policy holds on its own', async () => {
  await runCorpus(superDsn);
  // no lock, setting or sequence step survived any case
  assert.equal(admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), '0');
});

test('data and server state are unchanged after the corpus', () => {
  assert.equal(admin('SELECT count(*) FROM app.orders'), '200');
  assert.equal(admin('SELECT count(*) FROM app.audit_log'), '0');
  assert.equal(admin("SELECT count(*) FROM pg_class WHERE relname IN ('scratch', 'orders_copy', 'everything')"), '0');
  assert.equal(admin("SELECT count(*) FROM pg_roles WHERE rolname = 'mallory'"), '0');
  assert.equal(admin("SELECT rolsuper FROM pg_roles WHERE rolname = 'pgmcp_reader'"), 'f');
});

test('a rejection names rule and object, is counted by reason and audited', async () => {
  const s = await startHttp(section(), { observability: '127.0.0.1:0', server: 'log_format = json\n' });
  try {
    for (let i = 0; i < 50 && !s.metricsUrl(); i++) await new Promise((r) => setTimeout(r, 20));
    const sql = async (q) => (await post(s.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'execute_sql', arguments: { sql: q }, _meta: MODERN_META } },
      modernHeaders('tools/call', 'execute_sql'))).json;
    const r = await sql('SELECT u.password FROM users AS u');
    assert.equal(r.result.isError, true);
    assert.equal(r.result.content[0].text, 'blocked column users.password (rule blocked_columns); nothing was run');
    const v = await sql('SELECT pw FROM user_logins');
    assert.match(v.result.content[0].text, /blocked column users\.password read through view app\.user_logins \(rule blocked_columns\)/);
    await sql('DELETE FROM orders');
    await sql('SELECT 1');
    const metrics = await (await fetch(`${s.metricsUrl()}/metrics`)).text();
    assert.match(metrics, /pg_mcp_sql_rejections_total\{database="corpus",reason="blocked_columns"\} 2/);
    assert.match(metrics, /pg_mcp_sql_rejections_total\{database="corpus",reason="read_only"\} 1/);
    assert.match(metrics, /pg_mcp_db_queries_total\{database="corpus",status="ok"\} 1\n/);  // only SELECT 1 ran
    const audit = s.stderr().split('\n').filter((l) => l.includes('"component":"audit"')).map((l) => JSON.parse(l));
    const line = audit.find((a) => a.statement === 'DELETE FROM orders');
    assert.deepEqual([line.outcome, line.rule, line.object, line.rows], ['rejected', 'read_only', 'DELETE', 0]);
  } finally {
    await s.stop();
  }
});

test('a pooled connection comes back clean even when an operator lifts deny-list entries', async () => withClient(
  section('pool_max = 1\nallowed_settings = pgmcp.*\n', 'geo.st_distance, set_config, pg_advisory_lock'), async (c) => {
    const set = await call(c, { sql: "SELECT set_config('pgmcp.leak', 'yes', false)" });
    assert.equal(set.isError, undefined, text(set));
    const lock = await call(c, { sql: 'SELECT pg_advisory_lock(424242)' });
    assert.equal(lock.isError, undefined, text(lock));
    // one connection in the pool: the next call would see anything left behind
    const seen = await call(c, { sql: "SELECT current_setting('pgmcp.leak', true) AS v, pg_backend_pid() AS pid" });
    assert.equal(seen.structuredContent.rows[0][0] ?? '', '');
    for (let i = 0; i < 40 && admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242") !== '0'; i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.equal(admin("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242"), '0');
    // still refused although lifted elsewhere: the lift is per function
    assert.match(text(await call(c, { sql: 'SELECT pg_sleep(1)' })), /rule deny_list/);
  }));

test('allow_write: writes commit, transaction control and session SET stay refused, the pool stays clean', async () => withClient(
  section('allow_write = true\npool_max = 1\n'), async (c) => {
    const ins = await call(c, { sql: "INSERT INTO audit_log (action) VALUES ('written by pg-mcp') RETURNING id" });
    assert.equal(ins.isError, undefined, text(ins));
    assert.equal(admin("SELECT count(*) FROM app.audit_log WHERE action = 'written by pg-mcp'"), '1');
    assert.match(text(await call(c, { sql: 'COMMIT' })), /rule transaction_control/);
    assert.match(text(await call(c, { sql: 'SET search_path = public' })), /rule session_settings/);
    assert.match(text(await call(c, { sql: 'SELECT password FROM users' })), /rule blocked_columns/);
    assert.match(text(await call(c, { sql: 'UPDATE users SET password = password' })), /rule blocked_columns/);
    assert.match(text(await call(c, { sql: 'DELETE FROM users WHERE id = 0 RETURNING *' })), /rule blocked_columns/);
    // explain_query only ever reads, whatever the database allows
    const explained = await c.callTool({ name: 'explain_query', arguments: { sql: 'DELETE FROM audit_log' } });
    assert.match(text(explained), /this tool only reads, and the statement writes \(rule read_only\)/);
    const temp = await call(c, { sql: 'CREATE TEMP TABLE leftover AS SELECT 1 AS x' });
    assert.equal(temp.isError, undefined, text(temp));
    const gone = await call(c, { sql: "SELECT to_regclass('pg_temp.leftover') IS NULL AS gone" });
    assert.deepEqual(gone.structuredContent.rows, [[true]]);
    admin("DELETE FROM app.audit_log WHERE action = 'written by pg-mcp'");
  }));

test('allow_write: DDL runs no code the policy refuses and touches nothing it blocks, even as a superuser', async () => withClient(
  section('allow_write = true\n', undefined, superDsn), async (c) => {
    // The server runs a default, a CHECK, an index expression or a USING
    // clause as it runs the DDL, without showing an analysis first.
    const refused = [
      ['ALTER TABLE audit_log ADD COLUMN leak text DEFAULT app.get_password(1)', 'functions', /app\.get_password .*named in DDL as app\.get_password/],
      ['CREATE INDEX ON audit_log (app.slow_echo(id::int))', 'blocked_functions', /named in DDL/],
      ['ALTER TABLE audit_log ADD CONSTRAINT c CHECK (app.slow_echo(id::int) > -1)', 'blocked_functions', /named in DDL/],
      ['ALTER TABLE audit_log ALTER COLUMN action TYPE int USING app.slow_echo(1)', 'blocked_functions', /named in DDL/],
      ['CREATE TABLE scratch_ddl (a int GENERATED ALWAYS AS (slow_echo(a)) STORED)', 'blocked_functions', /blocked function (app\.)?slow_echo/],
      ['CREATE TABLE scratch_ddl (a int CHECK (a OPERATOR(app.===) 1))', 'blocked_functions', /app\.same \(called by an operator\)/],
      ['CREATE TABLE scratch_ddl (a app.ok_int)', 'functions', /app\.is_ok/],
      ['CREATE VIEW scratch_view AS SELECT app.nap(1)', 'functions', /app\.nap/],
      // what runs with no call in the text: an index's operator class, an
      // exclusion constraint's operator, the cast to a column's type
      ['CREATE INDEX ON orders (id app.locking_int_ops)', 'functions', /operator class app\.locking_int_ops/],
      ['CREATE TABLE scratch_ddl (a int, EXCLUDE USING btree (a WITH OPERATOR(app.===)))', 'blocked_functions', /app\.same/],
      ['ALTER TABLE orders ADD COLUMN m app.mood DEFAULT 1', 'functions', /app\.mood_of .*a cast to app\.mood/],
      ['ALTER TABLE order_items ALTER COLUMN quantity TYPE app.mood', 'functions', /app\.mood_of/],
      ['CREATE TABLE scratch_ddl (t hstore CHECK (t = t))', 'functions', /public\.hstore_eq/],
      // renaming what the rules name, or moving rows out from under them
      ['ALTER TABLE users RENAME COLUMN password TO pw', 'blocked_columns', /DDL names app\.users/],
      ['ALTER TABLE app.secrets RENAME TO not_secret', 'blocked_tables', /DDL names app\.secrets/],
      ['ALTER TABLE ledger DETACH PARTITION ledger_2025', 'blocked_tables', /DDL names app\.ledger/],
      ['CREATE TABLE scratch_ddl () INHERITS (app.secrets)', 'blocked_tables', /DDL names app\.secrets/],
      ['CREATE TABLE scratch_ddl (LIKE users)', 'blocked_columns', /DDL names app\.users/],
      ['CREATE VIEW scratch_view AS SELECT password FROM users', 'blocked_columns', /DDL names app\.users/],
      ['TRUNCATE public.tokens', 'blocked_tables', /DDL names public\.tokens/],
      ['DROP TABLE app.secrets', 'blocked_tables', /DDL names app\.secrets/],
      ['ALTER SCHEMA app RENAME TO app2', 'utility', /of a schema is not allowed/],
      ['ALTER FUNCTION app.slow_echo(int) RENAME TO harmless', 'utility', /of a function is not allowed/],
      ['DROP SCHEMA geo CASCADE', 'utility', /of a schema is not allowed/],
    ];
    for (const [sql, rule, message] of refused) {
      const r = await call(c, { sql });
      assert.equal(r.isError, true, `${sql} was not refused`);
      assert.match(text(r), new RegExp(`\\(rule ${rule}\\)`), sql);
      assert.match(text(r), message, sql);
    }
    assert.equal(admin("SELECT count(*) FROM pg_attribute WHERE attrelid = 'app.audit_log'::regclass AND attname = 'leak'"), '0');
    assert.equal(admin("SELECT count(*) FROM pg_attribute WHERE attrelid = 'app.users'::regclass AND attname = 'password'"), '1');
    assert.equal(admin("SELECT to_regclass('app.secrets') IS NOT NULL AND to_regnamespace('geo') IS NOT NULL"), 't');
    assert.equal(admin("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'app.ledger_2025'::regclass"), '1');
    // table DDL that calls built-ins classified safe still runs
    for (const sql of [
      'CREATE TABLE scratch_ddl (id serial PRIMARY KEY, name text NOT NULL CHECK (length(name) > 0), at timestamptz DEFAULT now())',
      'ALTER TABLE scratch_ddl ADD COLUMN note text DEFAULT \'none\'',
      'CREATE INDEX scratch_ddl_name ON scratch_ddl (lower(name)) WHERE note IS NULL OR id = 1',
      'ALTER TABLE scratch_ddl ADD EXCLUDE USING btree (id WITH =)',
      'DROP TABLE scratch_ddl',
    ]) {
      const r = await call(c, { sql });
      assert.equal(r.isError, undefined, `${sql}: ${text(r)}`);
    }
    assert.equal(admin("SELECT to_regclass('app.scratch_ddl') IS NULL"), 't');
    // a constraint violation quotes the failing row, columns the statement
    // never read among them: that detail stays out
    const nulled = await call(c, { sql: 'UPDATE users SET email = NULL WHERE id = 1' });
    assert.match(text(nulled), /violates not-null constraint.*the values of the row or key are left out/);
    assert.doesNotMatch(text(nulled), /hunter1|tok-1/);
  }));

test('a bad policy entry stops start-up with the key and what to write', () => {
  const bare = `[database.corpus]\nplugin = postgres\ndsn = ${dsn}\n`;
  const config = writeConfig(`${bare}blocked_columns = a.b.c.d\n`);
  let out = '';
  try {
    execFileSync(PGMCP, ['--config', config, '--check-config'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    out = e.stderr;
  }
  assert.match(out, /blocked_columns: 'a\.b\.c\.d' has more than 3 dotted parts; write column, table\.column or schema\.table\.column/);
  const lift = writeConfig(`${bare}allowed_functions = a.b.c\n`);
  try {
    execFileSync(PGMCP, ['--config', lift, '--check-config'], { encoding: 'utf8', stdio: 'pipe' });
    out = '';
  } catch (e) {
    out = e.stderr;
  }
  assert.match(out, /allowed_functions: 'a\.b\.c' has more than 2 dotted parts; write name, schema\.name or schema\.\*/);
});

// Read replicas: a real streaming standby of the test cluster, made here with
// pg_basebackup (scripts/pg-cluster replica). Reads go to it while it is
// healthy; stopped, or lagging past replica_max_lag_ms, it gets none and the
// primary answers; back, it gets reads again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readClusterEnv, startHttp, post, MODERN_META, modernHeaders, tempDir } from '../e2e/lib.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const source = process.env.PGMCP_SOURCE_DIR;
const cluster = (...args) => execFileSync(join(source, 'scripts/pg-cluster'), args, { encoding: 'utf8' });
const psql = (dsn, sql) => execFileSync('psql', [dsn, '-Atqc', sql], { encoding: 'utf8' }).trim();

let replica;  // PGMCP_REPLICA_* of the standby
before(() => {
  const dir = join(tempDir(), 'replica');
  execFileSync('chmod', ['755', join(dir, '..')]);
  replica = Object.fromEntries(cluster('replica', env.PGMCP_PG_DIR, dir).trim().split('\n')
    .map((l) => /^(\w+)='?(.*?)'?$/.exec(l)).filter(Boolean).map((m) => [m[1], m[2]]));
});
after(() => { if (replica) cluster('stop', replica.PGMCP_REPLICA_DIR); });

// Which server answered a read: true on the standby, false on the primary.
async function onStandby(url) {
  const r = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'execute_sql', arguments: { sql: 'SELECT pg_is_in_recovery() AS standby' }, _meta: MODERN_META } },
    modernHeaders('tools/call', 'execute_sql'));
  const result = r.json?.result;
  assert.ok(result && !result.isError, `the read failed: ${r.text}`);
  return result.structuredContent.rows[0][0];
}

const ready = async (s) => (await (await fetch(`${s.metricsUrl()}/ready`)).json());
const metrics = async (s) => (await fetch(`${s.metricsUrl()}/metrics`)).text();

async function waitFor(what, cond, ms = 15000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
    if (await cond()) return;
  assert.fail(`${what} did not happen within ${ms} ms`);
}

const config = () => `[database.demo]\nplugin = postgres\ndsn = ${env.PGMCP_PG_DSN}\nreplicas = ${replica.PGMCP_REPLICA_DSN}\n` +
  'replica_check_ms = 200\nreplica_max_lag_ms = 1000\n';

test('replicas: reads go to a healthy standby; /ready and metrics report it', async () => {
  const s = await startHttp(config(), { observability: '127.0.0.1:0' });
  try {
    await waitFor('the replica being found healthy', () => /replica 1 is healthy; reads go to it/.test(s.stderr()));
    for (let i = 0; i < 5; i++) assert.equal(await onStandby(s.url), true, 'a read ran on the standby');
    const r = await ready(s);
    assert.equal(r.ready, true);
    assert.deepEqual(r.databases.demo.replicas, [{ name: 'replica 1', ok: true, lag_ms: 0 }]);
    const text = await metrics(s);
    assert.match(text, /^pg_mcp_db_replica_up\{database="demo",replica="replica 1"\} 1$/m);
    assert.match(text, /^pg_mcp_db_replica_lag_seconds\{database="demo",replica="replica 1"\} 0$/m);
    const ran = Number(/^pg_mcp_db_replica_statements_total\{database="demo",replica="replica 1"\} (\S+)$/m.exec(text)[1]);
    assert.ok(ran >= 5, `the replica counted ${ran} statements`);
  } finally {
    await s.stop();
  }
});

test('replicas: a stopped standby sends reads to the primary at once, without an error; it comes back', async () => {
  const s = await startHttp(config(), { observability: '127.0.0.1:0' });
  try {
    await waitFor('the replica being found healthy', () => /replica 1 is healthy/.test(s.stderr()));
    assert.equal(await onStandby(s.url), true);
    cluster('down', replica.PGMCP_REPLICA_DIR);
    // the pooled connection dies under the next read: it runs again on the primary
    for (let i = 0; i < 5; i++) assert.equal(await onStandby(s.url), false, 'the primary answered');
    assert.match(s.stderr(), /database 'demo': replica 1 gets no reads: /);
    const r = await ready(s);
    assert.equal(r.ready, true, 'the primary serves: the instance stays ready');
    assert.equal(r.databases.demo.replicas[0].ok, false);
    assert.match(r.databases.demo.replicas[0].problem, /unavailable|connect|terminat|closed/i);
    assert.match(await metrics(s), /^pg_mcp_db_replica_up\{database="demo",replica="replica 1"\} 0$/m);
    cluster('up', replica.PGMCP_REPLICA_DIR);
    await waitFor('the replica taking reads again', async () => (await onStandby(s.url)) === true);
    assert.match(s.stderr(), /replica 1 is healthy; reads go to it[\s\S]*gets no reads[\s\S]*replica 1 is healthy/);
  } finally {
    await s.stop();
  }
});

test('replicas: a standby lagging past replica_max_lag_ms is taken out, and back once it catches up', async () => {
  const s = await startHttp(config(), { observability: '127.0.0.1:0' });
  try {
    await waitFor('the replica being found healthy', () => /replica 1 is healthy/.test(s.stderr()));
    assert.equal(await onStandby(s.url), true);
    psql(replica.PGMCP_REPLICA_ADMIN_DSN, 'SELECT pg_wal_replay_pause()');
    try {
      // a write on the primary the standby receives but does not replay
      psql(env.PGMCP_PG_ADMIN_DSN, 'CREATE TABLE IF NOT EXISTS replica_lag_probe (at timestamptz); INSERT INTO replica_lag_probe VALUES (now())');
      await waitFor('the lagging replica being taken out', async () => (await ready(s)).databases.demo.replicas[0].ok === false);
      const [entry] = (await ready(s)).databases.demo.replicas;
      assert.match(entry.problem, /its replay lags \d+ ms \(replica_max_lag_ms = 1000\)/);
      assert.ok(entry.lag_ms > 1000, `lag ${entry.lag_ms} ms`);
      assert.equal(await onStandby(s.url), false, 'reads went to the primary');
      assert.ok(Number(/^pg_mcp_db_replica_lag_seconds\{database="demo",replica="replica 1"\} (\S+)$/m.exec(await metrics(s))[1]) > 1);
    } finally {
      psql(replica.PGMCP_REPLICA_ADMIN_DSN, 'SELECT pg_wal_replay_resume()');
      psql(env.PGMCP_PG_ADMIN_DSN, 'DROP TABLE IF EXISTS replica_lag_probe');
    }
    await waitFor('the replica taking reads again', async () => (await onStandby(s.url)) === true);
  } finally {
    await s.stop();
  }
});

test('replicas: every entry must be a URI, and no password reaches the message', async () => {
  const { runToExit, writeConfig } = await import('../e2e/lib.mjs');
  const file = writeConfig(`[database.demo]\nplugin = postgres\ndsn = ${env.PGMCP_PG_DSN}\nreplicas = host=127.0.0.1 password=hunter2-secret\n`);
  const r = await runToExit(['--config', file, '--check-config']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /replicas.*entry 1 is not a connection URI/);
  assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
});

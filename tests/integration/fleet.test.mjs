// Several pg-mcp instances as one service: the `redis` rate limiter plugin
// keeps one limit for the whole fleet in a real redis-server (started here on
// loopback), says clearly what happens when Redis goes away, and recovers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readClusterEnv, startHttp, post, MODERN_META, modernHeaders, writeConfig, runToExit, tempDir } from '../e2e/lib.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const dsn = env.PGMCP_PG_DSN;

const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// A throwaway redis-server on loopback, no persistence.
async function startRedis(port, extra = []) {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10000);
    proc.stdout.on('data', (d) => { out += d; if (/Ready to accept connections/.test(out)) { clearTimeout(timer); resolve(); } });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}:\n${out}`)); });
  });
  proc.removeAllListeners('exit');
  return { port, proc, stop: () => new Promise((r) => { if (proc.exitCode !== null || proc.signalCode !== null) return r(); proc.once('exit', r); proc.kill('SIGKILL'); }) };
}

const limiter = (port, extra = '') => `[rate_limiter.shared]\nplugin = redis\nport = ${port}\ntimeout_ms = 200\nretry_ms = 200\n${extra}`;
const database = `[database.demo]\nplugin = postgres\ndsn = ${dsn}\nrate_limiter = shared\n`;

// One stateless execute_sql call: 'ok', 'limited', or the error text.
async function call(url) {
  const r = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'execute_sql', arguments: { sql: 'SELECT 1' }, _meta: MODERN_META } },
    modernHeaders('tools/call', 'execute_sql'));
  const result = r.json?.result;
  if (!result) return `no result: ${r.status} ${r.text}`;
  if (!result.isError) return 'ok';
  const t = result.content[0].text;
  return /rate limited on database 'demo'/.test(t) ? 'limited' : t;
}

const metric = async (s, series) => {
  const text = await (await fetch(`${s.metricsUrl()}/metrics`)).text();
  const m = new RegExp(`^${series.replace(/[{}"=,]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

// Polls until cond() holds (at most 10 s).
async function waitFor(cond) {
  for (const end = Date.now() + 10000; Date.now() < end; await new Promise((r) => setTimeout(r, 20)))
    if (cond()) return;
  assert.fail('the condition never held within 10 s');
}

let redis;
before(async () => { redis = await startRedis(await freePort()); });
after(async () => { await redis?.stop(); });

test('redis: one limit for two instances: granted calls match burst + rate x time within 10 %', async () => {
  const rate = 40, burst = 20;
  const extra = `rate = ${rate}/s\nburst = ${burst}\nkey_prefix = fleet-${Date.now()}\n`;
  const a = await startHttp(database + limiter(redis.port, extra));
  const b = await startHttp(database + limiter(redis.port, extra));
  try {
    // both connected to the database (in the background after start-up) before the clock starts
    await waitFor(() => /database 'demo' is ready/.test(a.stderr()) && /database 'demo' is ready/.test(b.stderr()));
    const counts = { ok: 0, limited: 0 };
    const other = [];
    const start = Date.now();
    const until = start + 3000;
    let first = 0, last = start;
    // 8 clients, half on each instance, as fast as they are answered
    await Promise.all([...Array(8).keys()].map(async (i) => {
      const url = (i % 2 ? a : b).url;
      while (Date.now() < until) {
        const outcome = await call(url);
        if (outcome === 'ok') { counts.ok++; last = Date.now(); first ||= last; } else if (outcome === 'limited') counts.limited++; else other.push(outcome);
      }
    }));
    assert.deepEqual(other, []);
    console.log(`fleet limit: ${counts.ok} granted, ${counts.limited} refused over ${last - first} ms across two instances`);
    // the grants between the first answer and the last: the burst, then the rate
    const expected = burst + rate * ((last - first) / 1000);
    assert.ok(counts.limited > counts.ok, `the clients asked for more than the limit (${JSON.stringify(counts)})`);
    assert.ok(Math.abs(counts.ok - expected) <= 0.1 * expected,
      `granted ${counts.ok} across both instances; the limit allows ${expected.toFixed(1)} (${JSON.stringify(counts)})`);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('redis: when Redis goes away, deny refuses with a clear error and allow lets calls through, counted; both recover', async () => {
  const own = await startRedis(await freePort());
  const extra = 'rate = 5/min\nburst = 2\n';
  const deny = await startHttp(database + limiter(own.port, extra), { observability: '127.0.0.1:0' });
  const allow = await startHttp(database + limiter(own.port, `${extra}on_unavailable = allow\n`), { observability: '127.0.0.1:0' });
  try {
    for (let i = 0; i < 50 && !(deny.metricsUrl() && allow.metricsUrl()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await metric(allow, 'pg_mcp_rate_limiter_decisions_total{limiter="rate_limiter.shared",outcome="unenforced"}'), 0, 'declared at zero');
    // the burst is shared: two grants, then refusals, on either instance
    assert.deepEqual([await call(deny.url), await call(allow.url), await call(deny.url), await call(allow.url)], ['ok', 'ok', 'limited', 'limited']);
    await own.stop();
    const refused = await call(deny.url);
    assert.match(refused, /Redis at 127\.0\.0\.1:\d+ cannot decide \(.*\); on_unavailable = deny refuses calls until it answers/);
    assert.equal(await call(allow.url), 'ok');
    assert.equal(await call(allow.url), 'ok', 'unlimited while Redis is down');
    assert.ok(await metric(allow, 'pg_mcp_rate_limiter_decisions_total{limiter="rate_limiter.shared",outcome="unenforced"}') >= 2);
    assert.ok(await metric(deny, 'pg_mcp_rate_limiter_decisions_total{limiter="rate_limiter.shared",outcome="failed"}') >= 1);
    assert.match(deny.stderr(), /rate limiter 'shared': Redis at .* cannot decide: .*; on_unavailable = deny refuses calls until it answers/);
    // Redis is back (empty: a restart forgets the script and the buckets)
    const back = await startRedis(own.port);
    try {
      await new Promise((r) => setTimeout(r, 300));  // past retry_ms
      assert.deepEqual([await call(deny.url), await call(allow.url), await call(deny.url)], ['ok', 'ok', 'limited']);
      assert.match(deny.stderr(), /rate limiter 'shared': Redis at .* answers again/);
    } finally {
      await back.stop();
    }
  } finally {
    await deny.stop();
    await allow.stop();
    await own.stop();
  }
});

test('redis: AUTH with an ACL user; a wrong password is refused with Redis\'s words and never shows the password', async () => {
  const port = await freePort();
  const secured = await startRedis(port, ['--user', 'default', 'off', '--user', 'pgmcp', 'on', '>s3cret-PASSWORD-xyz', '~*', '+@all']);
  try {
    const good = await startHttp(database + limiter(port, 'rate = 10/s\nuser = pgmcp\npassword = ${REDIS_PASSWORD}\n'), { env: { REDIS_PASSWORD: 's3cret-PASSWORD-xyz' } });
    try {
      assert.equal(await call(good.url), 'ok');
    } finally {
      await good.stop();
    }
    const bad = await startHttp(database + limiter(port, 'rate = 10/s\nuser = pgmcp\npassword = wrong-PASSWORD-abc\n'));
    try {
      const t = await call(bad.url);
      assert.match(t, /AUTH failed: WRONGPASS/);
      assert.ok(!t.includes('wrong-PASSWORD-abc'));
      assert.ok(!bad.stderr().includes('wrong-PASSWORD-abc'));
    } finally {
      await bad.stop();
    }
  } finally {
    await secured.stop();
  }
});

test('redis: its keys are checked at start-up', async () => {
  for (const [extra, expected] of [
    ['', /\[rate_limiter.shared\]: rate is required/],
    ['rate = 10/s\non_unavailable = maybe\n', /on_unavailable.*write allow or deny/],
    ['rate = 10/s\nuser = u\n', /user.*needs a password/],
    ['rate = 10/s\nhostname = x\n', /hostname.*not a known key/],
  ]) {
    const config = writeConfig(`[rate_limiter.shared]\nplugin = redis\n${extra}[database.demo]\nplugin = postgres\ndsn = ${dsn}\nrate_limiter = shared\n`);
    const r = await runToExit(['--check-config', '--config', config]);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, expected);
  }
});

test('redis: the server-side script expires idle keys', async () => {
  const prefix = `ttl-${Date.now()}`;
  const s = await startHttp(database + limiter(redis.port, `rate = 100/s\nkey_prefix = ${prefix}\n`));
  try {
    assert.equal(await call(s.url), 'ok');
    const keys = execFileSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', `${prefix}:*`], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(keys.length, 1);
    assert.match(keys[0], new RegExp(`^${prefix}:shared:database:demo`));
    const ttl = Number(execFileSync('redis-cli', ['-p', String(redis.port), 'PTTL', keys[0]], { encoding: 'utf8' }).trim());
    assert.ok(ttl > 0 && ttl <= 1100, `PTTL ${ttl}`);
  } finally {
    await s.stop();
  }
});

test('redis over TLS: the certificate is verified; tls_ca_file trusts a private CA', async () => {
  const dir = tempDir();
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=pg-mcp test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
  const port = await freePort();
  const secured = await startRedis(0, ['--tls-port', String(port), '--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'),
    '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no']);
  try {
    const trusted = await startHttp(database + limiter(port, `rate = 5/min\nburst = 1\ntls = true\ntls_ca_file = ${join(dir, 'ca.crt')}\n`));
    try {
      assert.deepEqual([await call(trusted.url), await call(trusted.url)], ['ok', 'limited']);
    } finally {
      await trusted.stop();
    }
    const untrusted = await startHttp(database + limiter(port, 'rate = 5/min\ntls = true\n'));
    try {
      assert.match(await call(untrusted.url), /Redis at 127\.0\.0\.1:\d+ cannot decide \(.*certificate verify failed\)/);
    } finally {
      await untrusted.stop();
    }
  } finally {
    await secured.stop();
  }
});

// Two pg-mcp instances behind a real HAProxy (Debian's), configured as
// docs/deployment.md says: round robin, /ready as the health check, sticky
// on Mcp-Session-Id for legacy sessions, retries only where the request never
// reached an instance. A stateless query round moves between instances; a
// legacy session stays on one; an instance killed under a write load loses
// no acknowledged write and is taken out by the health check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readClusterEnv, startHttp, post, modernHeaders, MODERN_META, tempDir, Client, StreamableHTTPClientTransport } from '../e2e/lib.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const admin = (sql) => execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN, '-tAq', '-c', sql], { encoding: 'utf8' }).trim();
const key = 'a-fleet-secret-of-at-least-32-characters';

const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const portOf = (url) => Number(new URL(url).port);

async function startInstance() {
  return startHttp(`[database.demo]\nplugin = postgres\ndsn = ${env.PGMCP_PG_DSN}\nallow_write = true\npool_min = 2\n`,
    { server: 'request_state_key = ${PGMCP_TEST_STATE_KEY}\n', observability: '127.0.0.1:0', env: { PGMCP_TEST_STATE_KEY: key } });
}

// HAProxy in front of the instances; resolves once both are up in its view.
async function startHaproxy(instances) {
  const dir = tempDir();
  const port = await freePort();
  const servers = instances.map((s, i) => `  server ${'ab'[i]} 127.0.0.1:${portOf(s.url)} check port ${portOf(s.metricsUrl())} inter 200 fall 2 rise 2`).join('\n');
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, `global
  maxconn 1000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
  retry-on conn-failure
frontend mcp
  bind 127.0.0.1:${port}
  stats enable
  stats uri /haproxy-stats
  default_backend pgmcp
backend pgmcp
  balance roundrobin
  option httpchk GET /ready
  http-check expect status 200
  stick-table type string len 64 size 100k expire 30m
  stick match req.hdr(mcp-session-id)
  stick store-response res.hdr(mcp-session-id)
  http-response set-header X-Served-By %s
${servers}
`);
  const proc = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const h = {
    url: `http://127.0.0.1:${port}/mcp`,
    output: () => out,
    status: async () => {
      const csv = await (await fetch(`http://127.0.0.1:${port}/haproxy-stats;csv`)).text();
      return Object.fromEntries(csv.split('\n').map((l) => l.split(',')).filter((f) => f[0] === 'pgmcp' && /^[ab]$/.test(f[1])).map((f) => [f[1], f[17]]));
    },
    stop: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.once('exit', r); proc.kill('SIGKILL'); }),
  };
  for (let i = 0; ; i++) {
    try {
      const st = await h.status();
      if (Object.values(st).length === instances.length && Object.values(st).every((s) => s === 'UP')) return h;
    } catch { /* not listening yet */ }
    if (i > 200) throw new Error(`haproxy did not see both instances up:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let a, b, haproxy;
before(async () => {
  admin('CREATE TABLE fleet_log (tag text PRIMARY KEY); GRANT SELECT, INSERT ON fleet_log TO pgmcp_reader');
  [a, b] = [await startInstance(), await startInstance()];
  haproxy = await startHaproxy([a, b]);
});
after(async () => {
  await haproxy?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  admin('DROP TABLE IF EXISTS fleet_log');
});

const sampling = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } };
const model = (sql) => ({ role: 'assistant', content: { type: 'text', text: JSON.stringify({ sql, explanation: 'client model' }) }, model: 'm', stopReason: 'endTurn' });

test('haproxy: a stateless query round started on one instance completes on the other', async () => {
  const ask = (id, extra = {}) => post(haproxy.url, { jsonrpc: '2.0', id, method: 'tools/call',
    params: { name: 'query', arguments: { question: 'How many customers are there?' }, _meta: sampling, ...extra } }, modernHeaders('tools/call', 'query'));
  const r1 = await ask(1);
  assert.equal(r1.json.result.resultType, 'input_required', r1.text);
  const r2 = await ask(2, { inputResponses: { r0: model('SELECT count(*) FROM shop.customers') }, requestState: r1.json.result.requestState });
  assert.equal(r2.json.result.resultType, 'complete', r2.text);
  assert.deepEqual(r2.json.result.structuredContent.rows, [[Number(admin('SELECT count(*) FROM shop.customers'))]]);
  const served = [r1.headers.get('x-served-by'), r2.headers.get('x-served-by')];
  assert.deepEqual(served.slice().sort(), ['a', 'b'], `the two rounds went to ${served}`);
});

test('haproxy: a legacy session sticks to its instance by Mcp-Session-Id', async () => {
  const client = new Client({ name: 'sticky', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(haproxy.url)));
  try {
    for (let i = 0; i < 10; i++) {
      const r = await client.callTool({ name: 'execute_sql', arguments: { sql: 'SELECT $1::int AS i', params: [String(i)] } });
      assert.equal(r.isError, undefined, r.content?.[0]?.text);
      assert.deepEqual(r.structuredContent.rows, [[i]]);
    }
  } finally {
    await client.close();
  }
});

test('haproxy: an instance killed under a write load loses no acknowledged write, and the health check takes it out', async () => {
  const acked = [], failed = [];
  let n = 0, killedAt = 0;
  const until = Date.now() + 4000;
  const afterKill = { ok: 0, failed: 0 };
  const worker = async (w) => {
    while (Date.now() < until) {
      const tag = `w${w}-${n++}`;
      let r;
      try {
        r = await post(haproxy.url, { jsonrpc: '2.0', id: 1, method: 'tools/call',
          params: { name: 'execute_sql', arguments: { sql: 'INSERT INTO fleet_log (tag) VALUES ($1)', params: [tag] }, _meta: MODERN_META } }, modernHeaders('tools/call', 'execute_sql'));
      } catch (e) { r = { error: String(e) }; }
      const ok = r.json?.result && !r.json.result.isError;
      (ok ? acked : failed).push(tag);
      // a second after the kill, the health check has taken the instance out
      if (killedAt && Date.now() > killedAt + 1000) afterKill[ok ? 'ok' : 'failed']++;
    }
  };
  const load = Promise.all([...Array(6).keys()].map(worker));
  await new Promise((r) => setTimeout(r, 1000));
  a.proc.kill('SIGKILL');
  killedAt = Date.now();
  await load;
  const stored = new Set(admin('SELECT tag FROM fleet_log').split('\n').filter(Boolean));
  const lost = acked.filter((t) => !stored.has(t));
  console.log(`haproxy kill: ${acked.length} writes acknowledged, ${failed.length} failed (in flight on the killed instance), ${lost.length} lost; ${afterKill.ok} ok and ${afterKill.failed} failed from 1 s after the kill`);
  assert.deepEqual(lost, [], 'every acknowledged write is stored');
  assert.ok(acked.length > 50, `the load ran (${acked.length} acknowledged)`);
  assert.ok(failed.length <= 6, `at most the calls in flight failed (${failed.length})`);
  assert.ok(afterKill.ok > 20, `the other instance served after the kill (${afterKill.ok})`);
  assert.equal(afterKill.failed, 0);
  assert.deepEqual(await haproxy.status(), { a: 'DOWN', b: 'UP' });
});

// Fault injection at the HTTP connection layer: clients that send their
// headers a byte at a time, hundreds of open event streams, floods past the
// connection caps, broken framing. Every other client must go on being served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHttp, post, MODERN_META, modernHeaders } from '../e2e/lib.mjs';

const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: MODERN_META } };
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fault', version: '1' } } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
before(async () => {
  server = await startHttp('', { http: 'header_timeout_ms = 3000\n', observability: '127.0.0.1:0' });
});
after(async () => { await server?.stop(); });

function address(url) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

// Opens a raw connection; resolves once connected. Collects what it receives.
function connect(url) {
  return new Promise((resolve, reject) => {
    const s = net.connect(address(url), () => resolve(s));
    s.received = '';
    s.on('data', (d) => { s.received += d; });
    s.on('error', () => {});
    s.once('error', reject);
  });
}

// What one raw request gets back, until the server closes or `until` matches.
async function raw(url, bytes, until = null, ms = 5000) {
  const s = await connect(url);
  s.write(bytes);
  const deadline = Date.now() + ms;
  while (!s.closed && !(until && until.test(s.received)) && Date.now() < deadline) await sleep(10);
  s.destroy();
  return s.received;
}

async function timedCall() {
  const t0 = performance.now();
  const r = await post(server.url, LIST, modernHeaders('tools/list'));
  assert.equal(r.status, 200);
  return performance.now() - t0;
}

async function metric(name) {
  const text = await (await fetch(new URL('/metrics', server.metricsUrl()))).text();
  const values = {};
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{reason="([a-z_]+)"\\} (\\d+)`).exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}

test('200 slow-header clients and 200 open streams do not keep normal calls waiting', async () => {
  const slow = [];
  for (let i = 0; i < 200; i++) {
    const s = await connect(server.url);
    s.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    slow.push(s);
  }
  // A byte a second from each: never a whole head.
  const drip = setInterval(() => { for (const s of slow) if (!s.destroyed) s.write('X'); }, 1000);
  const streams = [];
  for (let i = 0; i < 100; i++) {
    const init = await post(server.url, INIT);
    const sid = init.headers.get('mcp-session-id');
    const controller = new AbortController();
    const res = await fetch(server.url, { signal: controller.signal, headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid } });
    assert.equal(res.status, 200);
    streams.push(controller);
  }
  for (let i = 0; i < 100; i++) {
    const controller = new AbortController();
    const res = await fetch(server.url, {
      method: 'POST', signal: controller.signal,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...modernHeaders('subscriptions/listen') },
      body: JSON.stringify({ jsonrpc: '2.0', id: `sub-${i}`, method: 'subscriptions/listen', params: { _meta: MODERN_META, notifications: { toolsListChanged: true } } }),
    });
    assert.equal(res.status, 200);
    streams.push(controller);
  }
  try {
    const times = [];
    for (let i = 0; i < 40; i++) times.push(await timedCall());
    const concurrent = await Promise.all(Array.from({ length: 40 }, () => timedCall()));
    times.push(...concurrent);
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor(times.length / 2)], max = times[times.length - 1];
    console.log(`# with 200 slow-header clients and 200 open streams: ${times.length} calls, p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    assert.ok(max < 2000, `a normal call took ${max.toFixed(0)} ms`);
    // The slow clients are cut at the header deadline with a 408.
    await sleep(3500);
    const timedOut = slow.filter((s) => /^HTTP\/1\.1 408 Request Time-?out/.test(s.received)).length;
    assert.equal(timedOut, 200, `${timedOut} of 200 slow clients got a 408`);
    assert.ok((await metric('pg_mcp_http_dropped_total')).header_timeout >= 200);
  } finally {
    clearInterval(drip);
    for (const s of slow) s.destroy();
    for (const c of streams) c.abort();
  }
  // The streams' connections are released once their clients leave.
  await sleep(600);
  assert.equal((await timedCall()) < 2000, true);
});

test('past the connection caps: 503 with Retry-After, and the server recovers', async () => {
  const capped = await startHttp('', { http: 'max_connections = 40\nmax_connections_per_client = 30\n' });
  try {
    const idle = [];
    for (let i = 0; i < 30; i++) idle.push(await connect(capped.url));
    const refused = await raw(capped.url, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n', /\r\n\r\n.*\}$/s);
    assert.match(refused, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(refused, /\r\nRetry-After: \d+\r\n/);
    assert.match(refused, /too many open connections from this client/);
    for (const s of idle) s.destroy();
    await sleep(300);
    const ok = await post(capped.url, LIST, modernHeaders('tools/list'));
    assert.equal(ok.status, 200);
  } finally {
    await capped.stop();
  }
});

test('broken framing gets a 400 with a JSON-RPC error; the next client is served', async () => {
  const head = 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
  const badLength = await raw(server.url, head + 'Content-Length: twelve\r\n\r\n{}', /\}\s*$/);
  assert.match(badLength, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(badLength, /"code":-32700/);
  const negative = await raw(server.url, head + 'Content-Length: -5\r\n\r\n{}', /\}\s*$/);
  assert.match(negative, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const huge = await raw(server.url, head + 'Content-Length: 99999999999999999999999\r\n\r\n{}', /\}\s*$/);
  assert.match(huge, /^HTTP\/1\.1 (400 Bad Request|413 Payload Too Large)\r\n/);
  const badChunk = await raw(server.url, head + 'Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n', /\}\s*$/);
  assert.match(badChunk, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const bigHead = await raw(server.url, head + 'X-Filler: ' + 'a'.repeat(70000) + '\r\n\r\n', /\}\s*$/);
  assert.match(bigHead, /^HTTP\/1\.1 (431 Request Header Fields Too Large|400 Bad Request)\r\n/);
  const garbage = await raw(server.url, '\x16\x03\x01\x02\x00 not http at all\r\n\r\n', /\}\s*$/);
  assert.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const twoLengths = await raw(server.url, head + 'Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}', /\}\s*$/);
  assert.match(twoLengths, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*framed twice/);
  const lengthAndChunks = await raw(server.url, head + 'Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', /\}\s*$/);
  assert.match(lengthAndChunks, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*framed twice/);
  // Two requests in one write (pipelined) are both answered, in order.
  const body = JSON.stringify(LIST);
  const one = head + `MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/list\r\nAccept: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const both = await raw(server.url, one + one, /(HTTP\/1\.1 200[\s\S]*){2}"resultType":"complete"[\s\S]*\}\}$/);
  assert.equal((both.match(/HTTP\/1\.1 200 OK/g) || []).length, 2);
  assert.equal((await timedCall()) < 2000, true);
});

test('a body that arrives too slowly is cut at the body deadline', async () => {
  const quick = await startHttp('', { http: 'body_timeout_ms = 1000\n' });
  try {
    const s = await connect(quick.url);
    s.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"jsonrpc":');
    const t0 = Date.now();
    while (!s.closed && Date.now() - t0 < 5000) await sleep(20);
    assert.ok(s.closed, 'the connection was not closed');
    assert.match(s.received, /^HTTP\/1\.1 408 Request Time-?out\r\n/);
    assert.ok(Date.now() - t0 < 3000);
    // A large body (read by a worker) that stalls is cut the same way.
    const big = await connect(quick.url);
    big.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{"jsonrpc":"2.0",`);
    const t1 = Date.now();
    while (!big.closed && Date.now() - t1 < 5000) await sleep(20);
    assert.ok(big.closed, 'the stalled large body was not cut');
    assert.ok(Date.now() - t1 < 3000);
    const ok = await post(quick.url, LIST, modernHeaders('tools/list'));
    assert.equal(ok.status, 200);
  } finally {
    await quick.stop();
  }
});

test('slow clients on the observability port do not keep /health and /metrics from answering', async () => {
  const base = server.metricsUrl();
  const slow = [];
  for (let i = 0; i < 100; i++) {
    const s = await connect(base);
    s.write('GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    slow.push(s);
  }
  try {
    for (const path of ['/health', '/metrics', '/ready']) {
      const t0 = performance.now();
      const res = await fetch(new URL(path, base));
      await res.text();
      assert.equal(res.status, 200);
      assert.ok(performance.now() - t0 < 2000, `${path} took ${performance.now() - t0} ms`);
    }
  } finally {
    for (const s of slow) s.destroy();
  }
});

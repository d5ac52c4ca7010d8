// The real pg-mcp over Streamable HTTP: the official SDK client for the
// legacy era, raw requests for the wire rules and the 2026-07-28 era.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startHttp, post, runToExit, writeConfig, MODERN_META, modernHeaders } from './lib.mjs';

let server;
before(async () => { server = await startHttp('[rate_limiter.default]\nplugin = token-bucket\nrate = 5/s\n', { http: 'max_body_bytes = 65536\n' }); });
after(async () => { await server?.stop(); });

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

test('an SDK client gets a session, lists, calls, pings and ends the session', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(server.url));
  const client = new Client({ name: 'e2e-http', version: '1.0.0' });
  await client.connect(transport);
  const sessionId = transport.sessionId;
  assert.match(sessionId, /^[A-Za-z0-9_-]{32}$/);
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'list_databases'));
  const r = await client.callTool({ name: 'list_databases', arguments: {} });
  assert.deepEqual(r.structuredContent, { databases: [] });
  await client.ping();
  await transport.terminateSession();
  // The ended session is gone: 404, as the protocol requires.
  const gone = await post(server.url, { jsonrpc: '2.0', id: 9, method: 'ping' }, { 'Mcp-Session-Id': sessionId });
  assert.equal(gone.status, 404);
  await client.close();
});

test('two sessions are independent and ids are unpredictable', async () => {
  const a = await post(server.url, INIT);
  const b = await post(server.url, INIT);
  assert.equal(a.status, 200);
  assert.notEqual(a.headers.get('mcp-session-id'), b.headers.get('mcp-session-id'));
  const del = await fetch(server.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': a.headers.get('mcp-session-id') } });
  assert.equal(del.status, 200);
  const stillB = await post(server.url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'Mcp-Session-Id': b.headers.get('mcp-session-id') });
  assert.equal(stillB.status, 200);
});

test('the wire rules: Origin, Host, sessions, versions, methods, bodies', async () => {
  const init = await post(server.url, INIT);
  const sid = init.headers.get('mcp-session-id');
  const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };

  assert.equal((await post(server.url, ping, { 'Mcp-Session-Id': sid, Origin: 'http://evil.example.com' })).status, 403);
  assert.equal((await post(server.url, ping, { 'Mcp-Session-Id': sid, Origin: 'http://localhost:3000' })).status, 200);
  assert.equal((await post(server.url, ping, { 'Mcp-Session-Id': 'not-a-session' })).status, 404);
  assert.equal((await post(server.url, ping)).status, 400);  // legacy request without its session
  const badVersion = await post(server.url, ping, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '1999-01-01' });
  assert.equal(badVersion.status, 400);
  // Any supported revision is accepted in the header of a session.
  assert.equal((await post(server.url, ping, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-03-26' })).status, 200);
  assert.equal((await post(server.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'Mcp-Session-Id': sid })).status, 202);
  assert.equal((await post(server.url, '{oops', { 'Mcp-Session-Id': sid })).status, 400);
  assert.equal((await post(server.url, 'x'.repeat(70000), { 'Mcp-Session-Id': sid })).status, 413);
  const wrongType = await fetch(server.url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
  assert.equal(wrongType.status, 415);
  assert.equal((await fetch(server.url, { method: 'PUT' })).status, 405);
  assert.equal((await fetch(server.url, { method: 'GET', headers: { Accept: 'text/event-stream' } })).status, 405);
  assert.equal((await fetch(server.url.replace('/mcp', '/other'))).status, 404);
  // Host must be a loopback name while bound to loopback (DNS rebinding).
  const { request } = await import('node:http');
  const status = await new Promise((resolve) => {
    const u = new URL(server.url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { Host: 'evil.example.com', 'Content-Type': 'application/json' } }, (res) => resolve(res.statusCode));
    req.end(JSON.stringify(ping));
  });
  assert.equal(status, 403);
});

test('a legacy session GET stream delivers change notifications and resumes with Last-Event-ID', async () => {
  const init = await post(server.url, INIT);
  const sid = init.headers.get('mcp-session-id');
  const res = await fetch(server.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  // A second standalone stream for the same session is refused.
  const second = await fetch(server.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid } });
  assert.equal(second.status, 409);
  await res.body.cancel();
});

test('2026-07-28: stateless requests, header rules, errors', async () => {
  const list = await post(server.url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: MODERN_META } }, modernHeaders('tools/list'));
  assert.equal(list.status, 200);
  assert.equal(list.json.result.resultType, 'complete');
  assert.equal(typeof list.json.result.ttlMs, 'number');
  assert.equal(list.headers.get('mcp-session-id'), null);  // no sessions in this revision

  const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_databases', arguments: {}, _meta: MODERN_META } };
  const ok = await post(server.url, call, modernHeaders('tools/call', 'list_databases'));
  assert.deepEqual(ok.json.result.structuredContent, { databases: [] });
  const encoded = await post(server.url, call, modernHeaders('tools/call', '=?base64?' + Buffer.from('list_databases').toString('base64') + '?='));
  assert.equal(encoded.status, 200);
  const mismatch = await post(server.url, call, modernHeaders('tools/call', 'other_tool'));
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.json.error.code, -32020);
  const noName = await post(server.url, call, modernHeaders('tools/call'));
  assert.equal(noName.json.error.code, -32020);

  const unsupported = await post(server.url,
    { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '1900-01-01' } } },
    { ...modernHeaders('tools/list'), 'MCP-Protocol-Version': '1900-01-01' });
  assert.equal(unsupported.status, 400);
  assert.equal(unsupported.json.error.code, -32022);
  assert.deepEqual(unsupported.json.error.data.requested, '1900-01-01');

  const noCaps = await post(server.url,
    { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } },
    modernHeaders('tools/list'));
  assert.equal(noCaps.status, 400);
  assert.equal(noCaps.json.error.code, -32602);

  const unknown = await post(server.url, { jsonrpc: '2.0', id: 5, method: 'nope/nope', params: { _meta: MODERN_META } }, modernHeaders('nope/nope'));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, -32601);

  const discover = await post(server.url, { jsonrpc: '2.0', id: 6, method: 'server/discover', params: { _meta: MODERN_META } }, modernHeaders('server/discover'));
  assert.deepEqual(discover.json.result.supportedVersions, ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']);
});

test('2026-07-28: subscriptions/listen acknowledges the honoured filter first', async () => {
  const controller = new AbortController();
  const res = await fetch(server.url, {
    method: 'POST', signal: controller.signal,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...modernHeaders('subscriptions/listen') },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen', params: { _meta: MODERN_META, notifications: { toolsListChanged: true, promptsListChanged: true } } }),
  });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  let text = '';
  while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  const first = JSON.parse(text.split('\n').find((l) => l.startsWith('data: ')).slice(6));
  assert.equal(first.method, 'notifications/subscriptions/acknowledged');
  assert.deepEqual(first.params.notifications, { toolsListChanged: true });  // no prompt changes to send
  assert.equal(first.params._meta['io.modelcontextprotocol/subscriptionId'], 'sub-1');
  controller.abort();
});

test('auth mode none on a non-loopback address refuses to start and says why', async () => {
  const config = writeConfig('[server]\ntransport = http\n[http]\nlisten = 0.0.0.0:0\n');
  const r = await runToExit(['--config', config]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /auth\.mode = none is refused on 0\.0\.0\.0:0/);
  const check = await runToExit(['--check-config', '--config', config]);
  assert.equal(check.code, 1);
});

test('bad bodies get a 400 with a JSON-RPC error, and every status line says what it is', async () => {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  // invalid UTF-8 inside a string: the parse error echoes it, which once threw and dropped the connection
  const body = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
  const res = await fetch(server.url, { method: 'POST', headers, body });
  assert.equal(res.status, 400);
  assert.equal(res.statusText, 'Bad Request');
  const reply = await res.json();
  assert.equal(reply.error.code, -32700);
  assert.match(reply.error.message, /UTF-8/);
  const missing = await fetch(new URL('/nothing', server.url));
  assert.equal(missing.status, 404);
  assert.equal(missing.statusText, 'Not Found');
  const wrongType = await fetch(server.url, { method: 'POST', headers: { ...headers, 'Content-Type': 'text/plain' }, body: '{}' });
  assert.equal(wrongType.statusText, 'Unsupported Media Type');
  // and the server goes on serving
  const ok = await post(server.url, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: MODERN_META } }, modernHeaders('tools/list'));
  assert.equal(ok.status, 200);
});

test('a port another instance holds is refused, not shared', async () => {
  const first = await startHttp('', { observability: '127.0.0.1:0' });
  try {
    let metrics;
    for (let i = 0; i < 50 && !(metrics = first.metricsUrl()); i++) await new Promise((r) => setTimeout(r, 20));
    const obsPort = new URL(metrics).port;
    const mcpPort = new URL(first.url).port;
    // the same observability port: the second serves MCP without it, and says so
    const second = await startHttp('', { observability: `127.0.0.1:${obsPort}` });
    try {
      for (let i = 0; i < 50 && !/observability\.listen/.test(second.stderr()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(second.stderr(), /cannot listen on 127\.0\.0\.1:\d+ \(observability\.listen\).*in use/);
      assert.equal(second.metricsUrl(), undefined);
    } finally {
      await second.stop();
    }
    // the same MCP port: the second does not start
    const r = await runToExit(['--config', writeConfig(`[server]\ntransport = http\n[http]\nlisten = 127.0.0.1:${mcpPort}\n[observability]\nlisten =\n`)]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: .*in use/);
  } finally {
    await first.stop();
  }
});

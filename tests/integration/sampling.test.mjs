// The query tool with no LLM configured: pg-mcp asks the connected client's
// own model through sampling/createMessage. The official MCP SDK client
// answers it, over stdio and over Streamable HTTP, against a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client, CreateMessageRequestSchema, StdioClientTransport, StreamableHTTPClientTransport, writeConfig, readClusterEnv, startHttp, post, modernHeaders, PGMCP } from '../e2e/lib.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const demo = `[database.demo]\nplugin = postgres\ndsn = ${env.PGMCP_PG_DSN}\n`;
const admin = (sql) => execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN, '-tAq', '-c', sql], { encoding: 'utf8' }).trim();
const customers = () => Number(admin('SELECT count(*) FROM shop.customers'));

// A client whose "model" answers with scripted texts and records what it was asked.
function samplingClient(answers) {
  const client = new Client({ name: 'sampling-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.asked = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    client.asked.push(request.params);
    return { role: 'assistant', content: { type: 'text', text: answers.shift() ?? 'no more answers' }, model: 'client-model', stopReason: 'endTurn' };
  });
  return client;
}

const answer = (sql) => JSON.stringify({ sql, explanation: 'from the client model' });

async function checkQuery(client) {
  const r = await client.callTool({ name: 'query', arguments: { question: 'How many customers are there?' } });
  assert.equal(r.isError, undefined, r.content?.[0]?.text);
  assert.deepEqual(r.structuredContent.rows, [[customers()]]);
  assert.equal(client.asked.length, 2, 'one wrong column, one repair');
  const first = client.asked[0];
  assert.match(first.systemPrompt, /one PostgreSQL 15 SQL query/);
  assert.equal(first.includeContext, 'none');
  assert.match(first.messages[0].content.text, /Question: How many customers are there\?/);
  assert.match(client.asked[1].messages.at(-1).content.text, /column "nope" does not exist/);
}

test('stdio: no [llm] configured, the client model writes the SQL (and repairs it)', async () => {
  const client = samplingClient([answer('SELECT nope FROM shop.customers'), answer('SELECT count(*) FROM shop.customers')]);
  const transport = new StdioClientTransport({ command: PGMCP, args: ['--config', writeConfig(demo)], stderr: 'pipe' });
  await client.connect(transport);
  try {
    await checkQuery(client);
  } finally {
    await client.close();
  }
});

test('Streamable HTTP: the sampling request travels on the call\'s stream', async () => {
  const s = await startHttp(demo);
  const client = samplingClient([answer('SELECT nope FROM shop.customers'), answer('SELECT count(*) FROM shop.customers')]);
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url)));
    await checkQuery(client);
    await client.close();
  } finally {
    await s.stop();
  }
});

test('a client without the sampling capability gets a clear error naming what to configure', async () => {
  const client = new Client({ name: 'no-sampling', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: PGMCP, args: ['--config', writeConfig(demo)], stderr: 'pipe' }));
  try {
    const r = await client.callTool({ name: 'query', arguments: { question: 'How many customers are there?' } });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /did not declare the sampling capability.*configure an LLM provider in an \[llm\.NAME\] section/);
  } finally {
    await client.close();
  }
});

// A 2026-07-28 client that can sample: its stateless query tool calls.
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } };
const statelessQuery = (url, question) => (id, extra = {}) => post(url, { jsonrpc: '2.0', id, method: 'tools/call',
  params: { name: 'query', arguments: { question }, _meta: meta, ...extra } },
modernHeaders('tools/call', 'query'));

test('2026-07-28: a round started on one instance is continued on another with the same key', async () => {
  const key = 'a-fleet-secret-of-at-least-32-characters';
  const server = 'request_state_key = ${PGMCP_TEST_STATE_KEY}\n';
  const a = await startHttp(demo, { server, env: { PGMCP_TEST_STATE_KEY: key } });
  const b = await startHttp(demo, { server, env: { PGMCP_TEST_STATE_KEY: key } });
  const other = await startHttp(demo, { server, env: { PGMCP_TEST_STATE_KEY: `${key}-but-another` } });
  const model = (text) => ({ role: 'assistant', content: { type: 'text', text }, model: 'client-model', stopReason: 'endTurn' });
  try {
    const r1 = (await statelessQuery(a.url, 'How many customers are there?')(1)).json.result;
    assert.equal(r1.resultType, 'input_required');
    const retry = { inputResponses: { r0: model(answer('SELECT count(*) FROM shop.customers')) }, requestState: r1.requestState };
    const refused = (await statelessQuery(other.url, 'How many customers are there?')(2, retry)).json;
    assert.match(refused.error.message, /requestState failed verification/);
    const r2 = (await statelessQuery(b.url, 'How many customers are there?')(3, retry)).json.result;
    assert.equal(r2.resultType, 'complete', JSON.stringify(r2));
    assert.deepEqual(r2.structuredContent.rows, [[customers()]]);
    for (const s of [a, b, other]) assert.doesNotMatch(s.stderr(), /fleet-secret/);
  } finally {
    await Promise.all([a.stop(), b.stop(), other.stop()]);
  }
});

test('2026-07-28: sampling through the input-required flow, stateless, with sealed requestState', async () => {
  const s = await startHttp(demo);
  const call = statelessQuery(s.url, 'How many customers are there?');
  const model = (text) => ({ role: 'assistant', content: { type: 'text', text }, model: 'client-model', stopReason: 'endTurn' });
  try {
    // round 1: the server needs the client's model
    const r1 = (await call(1)).json.result;
    assert.equal(r1.resultType, 'input_required');
    assert.deepEqual(Object.keys(r1.inputRequests), ['r0']);
    assert.equal(r1.inputRequests.r0.method, 'sampling/createMessage');
    assert.match(r1.inputRequests.r0.params.messages[0].content.text, /Question: How many customers are there\?/);
    assert.equal(typeof r1.requestState, 'string');
    // round 2: a wrong column; the server asks again with PostgreSQL's error as feedback
    const r2 = (await call(2, { inputResponses: { r0: model(answer('SELECT nope FROM shop.customers')) }, requestState: r1.requestState })).json.result;
    assert.equal(r2.resultType, 'input_required');
    assert.deepEqual(Object.keys(r2.inputRequests), ['r1']);
    assert.match(r2.inputRequests.r1.params.messages.at(-1).content.text, /column "nope" does not exist/);
    // round 3: the repair; the call completes
    const r3 = (await call(3, { inputResponses: { r1: model(answer('SELECT count(*) FROM shop.customers')) }, requestState: r2.requestState })).json.result;
    assert.equal(r3.resultType, 'complete', JSON.stringify(r3));
    assert.deepEqual(r3.structuredContent.rows, [[customers()]]);
    // each SQL attempt ran once, though each round runs the call from the top
    const audited = (sql) => s.stderr().split('\n').filter((l) => l.includes('[audit]') && l.includes(`statement="${sql}"`)).length;
    assert.equal(audited('SELECT nope FROM shop.customers'), 1, s.stderr());
    assert.equal(audited('SELECT count(*) FROM shop.customers'), 1);
    assert.deepEqual(r3.structuredContent.attempts.map((a) => a.outcome), ['error', 'ok']);
    assert.deepEqual(r3.structuredContent.attempts.map((a) => a.outcome), ['error', 'ok']);
    // a tampered or misplaced state is refused
    const forged = r2.requestState.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    const bad = (await call(4, { inputResponses: { r1: model(answer('SELECT 1')) }, requestState: forged })).json;
    assert.equal(bad.error.code, -32602);
    assert.match(bad.error.message, /requestState failed verification/);
    const other = (await post(s.url, { jsonrpc: '2.0', id: 5, method: 'tools/call',
      params: { name: 'query', arguments: { question: 'Something else?' }, _meta: meta, requestState: r2.requestState } },
    modernHeaders('tools/call', 'query'))).json;
    assert.equal(other.error.code, -32602);
    // without the sampling capability: no input request, a clear tool error
    const none = (await post(s.url, { jsonrpc: '2.0', id: 6, method: 'tools/call',
      params: { name: 'query', arguments: { question: 'How many?' }, _meta: { ...meta, 'io.modelcontextprotocol/clientCapabilities': {} } } },
    modernHeaders('tools/call', 'query'))).json.result;
    assert.equal(none.isError, true);
    assert.match(none.content[0].text, /did not declare the sampling capability/);
  } finally {
    await s.stop();
  }
});

// Answers to sampling/createMessage that no SDK would send: each must give the
// query tool an error and leave the server serving.
const MALFORMED = [
  { error: 'boom' },
  { error: null },
  { error: 42 },
  { error: [1, 2] },
  { error: { code: 'x', message: 5 } },
  { result: 'just text' },
  { result: null },
  { result: { content: { type: 5, text: 'SELECT 1' } } },
  { result: { content: [{ type: 'text', text: 7 }] } },
  { result: { content: { type: 'text', text: { sql: 'SELECT 1' } }, model: 5, stopReason: [] } },
];

test('stdio: malformed answers to sampling/createMessage are the client\'s error, not a crash', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(PGMCP, ['--config', writeConfig(demo)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buffer = '';
  const waiting = [];
  child.stdout.on('data', (d) => {
    buffer += d;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      waiting.shift()?.(msg);
    }
  });
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const send = (m) => child.stdin.write(`${JSON.stringify(m)}\n`);
  try {
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {} }, clientInfo: { name: 'raw', version: '1' } } });
    assert.equal((await next()).id, 1);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    for (const [i, answer] of MALFORMED.entries()) {
      send({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'query', arguments: { question: 'How many customers?' } } });
      let msg = await next();
      while (msg.method !== 'sampling/createMessage') msg = await next();  // skip progress and logs
      send({ jsonrpc: '2.0', id: msg.id, ...answer });
      let reply = await next();
      while (reply.id !== 100 + i) reply = await next();
      assert.equal(reply.result?.isError, true, `${JSON.stringify(answer)} -> ${JSON.stringify(reply)}`);
    }
    send({ jsonrpc: '2.0', id: 999, method: 'tools/call', params: { name: 'list_databases', arguments: {} } });
    let alive = await next();
    while (alive.id !== 999) alive = await next();
    assert.equal(alive.result.isError, undefined, 'still serving');
    assert.equal(child.exitCode, null);
  } finally {
    child.kill();
  }
});

test('2026-07-28: malformed inputResponses are the client\'s error, not a crash', async () => {
  const s = await startHttp(demo);
  const call = statelessQuery(s.url, 'How many customers?');
  try {
    const first = (await call(1)).json.result;
    assert.equal(first.resultType, 'input_required');
    for (const [i, answer] of MALFORMED.entries()) {
      const r = await call(10 + i, { inputResponses: { r0: answer.result ?? answer }, requestState: first.requestState });
      assert.ok(r.status < 500, `HTTP ${r.status}`);
      const result = r.json.result;
      assert.ok(result?.isError === true || result?.resultType === 'input_required' || r.json.error, JSON.stringify(r.json));
    }
    const ok = await post(s.url, { jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'list_databases', arguments: {}, _meta: meta } },
      modernHeaders('tools/call', 'list_databases'));
    assert.equal(ok.status, 200, 'still serving');
  } finally {
    await s.stop();
  }
});

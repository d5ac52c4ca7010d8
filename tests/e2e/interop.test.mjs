// Interoperability: pg-mcp driven by the clients people use, over stdio and
// Streamable HTTP, against a real PostgreSQL:
//   - the official TypeScript SDK at the oldest and the newest release that
//     speaks each legacy revision pg-mcp serves (2024-11-05: 1.0.0, stdio
//     only, as it has no Streamable HTTP client, and 1.10.2; 2025-03-26:
//     1.11.0 and 1.12.3; 2025-06-18: 1.13.0 and 1.24.0; 2025-11-25: 1.24.1
//     and the current 1.x);
//   - the 2.x client (@modelcontextprotocol/client 2.0.0 and 2.4.0) pinned to
//     the stateless 2026-07-28 era;
//   - the Vercel AI SDK's MCP client (@ai-sdk/mcp) and LangChain's MCP
//     adapters (@langchain/mcp-adapters).
// Each calls every tool and reads every resource, and checks what came back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeConfig, readClusterEnv, startHttp, PGMCP } from './lib.mjs';
import { startFakeLlm } from './fake-llm.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const admin = (sql) => execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN, '-tAq', '-c', sql], { encoding: 'utf8' }).trim();
const CUSTOMERS = 'SELECT id, email FROM shop.customers ORDER BY id LIMIT 3';
const COUNT = 'SELECT count(*) AS n FROM shop.customers';

let fake;
let ini;
let http;
before(async () => {
  fake = await startFakeLlm({ apiKey: 'sk-test-interop' });
  fake.fallback = JSON.stringify({ sql: COUNT, explanation: 'counts customers' });
  ini = `[database.demo]\nplugin = postgres\ndsn = ${env.PGMCP_PG_DSN}\ndescription = The demo shop\n` +
    `[llm.fake]\nplugin = openai\nbase_url = ${fake.url}/v1\napi_key = sk-test-interop\nmodel = gpt-test\n`;
  http = await startHttp(ini);
});
after(async () => { await http?.stop(); await fake?.close?.(); });

const firstIds = () => admin('SELECT string_agg(id::text, \',\' ORDER BY id) FROM (SELECT id FROM shop.customers ORDER BY id LIMIT 3) s');

// The rows of an execute_sql or query result, from structuredContent where
// the revision has it, else from the JSON of the text block.
function rowsOf(result, structured) {
  if (structured) return result.structuredContent.rows;
  assert.equal(result.structuredContent, undefined, 'no structuredContent before 2025-06-18');
  return JSON.parse(result.content[0].text).rows;
}

// Every tool and every resource through one client, whatever its API looks
// like: api = { listTools, callTool(name, args), listResources,
// listResourceTemplates, readResource(uri) }.
async function exercise(api, { structured = true, annotations = true } = {}) {
  const tools = await api.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(),
    ['describe_table', 'execute_sql', 'explain_query', 'list_databases', 'query', 'search_objects']);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object', t.name);
    if (!structured) assert.equal(t.outputSchema, undefined, t.name);
    if (structured && t.name === 'execute_sql') assert.equal(t.outputSchema.type, 'object');
    if (!annotations) assert.equal(t.annotations, undefined, t.name);
    if (annotations && t.name === 'execute_sql') assert.equal(t.annotations.readOnlyHint, true);
  }
  const list = await api.callTool('list_databases', {});
  assert.equal(list.isError ?? false, false);
  assert.match(list.content[0].text, /demo/);

  const sql = await api.callTool('execute_sql', { sql: CUSTOMERS });
  assert.equal(sql.isError ?? false, false, sql.content?.[0]?.text);
  assert.deepEqual(rowsOf(sql, structured).map((r) => r[0]).join(','), firstIds());

  const params = await api.callTool('execute_sql', { sql: 'SELECT $1::int + 1 AS n', params: ['41'] });
  assert.equal(rowsOf(params, structured)[0][0], 42);

  const refused = await api.callTool('execute_sql', { sql: 'DELETE FROM shop.orders' });
  assert.equal(refused.isError, true);
  assert.match(refused.content[0].text, /read_only/);

  const plan = await api.callTool('explain_query', { sql: CUSTOMERS });
  assert.equal(plan.isError ?? false, false, plan.content?.[0]?.text);
  assert.match(plan.content[0].text, /Limit/);

  const table = await api.callTool('describe_table', { table: 'shop.orders' });
  assert.equal(table.isError ?? false, false);
  assert.match(table.content[0].text, /customer_id/);

  const found = await api.callTool('search_objects', { pattern: 'order', kind: 'table' });
  assert.match(found.content[0].text, /shop\.orders/);

  const answer = await api.callTool('query', { question: 'How many customers are there?' });
  assert.equal(answer.isError ?? false, false, answer.content?.[0]?.text);
  assert.equal(String(rowsOf(answer, structured)[0][0]), admin('SELECT count(*) FROM shop.customers'));

  const resources = await api.listResources();
  assert.ok(resources.some((r) => r.uri === 'pgmcp://demo/schema'), JSON.stringify(resources));
  const templates = await api.listResourceTemplates();
  assert.ok(templates.some((t) => t.uriTemplate === 'pgmcp://{database}/table/{schema}/{table}'), JSON.stringify(templates));
  const schema = await api.readResource('pgmcp://demo/schema');
  assert.match(schema[0].text, /orders/);
  const orders = await api.readResource('pgmcp://demo/table/shop/orders');
  assert.match(orders[0].text, /customer_id/);
  const odd = await api.readResource('pgmcp://demo/table/Mixed%20Schema/Odd%20Table');
  assert.match(odd[0].text, /Col A/);
}

// The official SDK's Client, any release: the same API since 1.0.
function officialApi(client) {
  return {
    listTools: async () => (await client.listTools()).tools,
    callTool: (name, args) => client.callTool({ name, arguments: args }, undefined, { timeout: 60000 }),
    listResources: async () => (await client.listResources()).resources,
    listResourceTemplates: async () => (await client.listResourceTemplates()).resourceTemplates,
    readResource: async (uri) => (await client.readResource({ uri })).contents,
  };
}

const sdkModule = (pkg, file) => import(new URL(`./node_modules/${pkg}/dist/${pkg === 'sdk-1.0.0' ? '' : 'esm/'}${file}`, import.meta.url));

async function withOfficial(pkg, transport, fn) {
  const { Client } = await sdkModule(pkg, 'client/index.js');
  let t;
  if (transport === 'stdio') {
    const { StdioClientTransport } = await sdkModule(pkg, 'client/stdio.js');
    t = new StdioClientTransport({ command: PGMCP, args: ['--config', writeConfig(ini)], stderr: 'ignore' });
  } else {
    const { StreamableHTTPClientTransport } = await sdkModule(pkg, 'client/streamableHttp.js');
    t = new StreamableHTTPClientTransport(new URL(http.url));
  }
  const client = new Client({ name: `interop-${pkg}`, version: '1.0.0' }, { capabilities: {} });
  await client.connect(t);
  try {
    return await fn(client, t);
  } finally {
    await client.close();
  }
}

const releases = [
  { pkg: 'sdk-1.0.0', revision: '2024-11-05', transports: ['stdio'] },
  { pkg: 'sdk-1.10.2', revision: '2024-11-05', transports: ['stdio', 'http'] },
  { pkg: 'sdk-1.11.0', revision: '2025-03-26', transports: ['stdio', 'http'] },
  { pkg: 'sdk-1.12.3', revision: '2025-03-26', transports: ['stdio', 'http'] },
  { pkg: 'sdk-1.13.0', revision: '2025-06-18', transports: ['stdio', 'http'] },
  { pkg: 'sdk-1.24.0', revision: '2025-06-18', transports: ['stdio', 'http'] },
  { pkg: 'sdk-1.24.1', revision: '2025-11-25', transports: ['stdio', 'http'] },
  { pkg: '@modelcontextprotocol/sdk', revision: '2025-11-25', transports: ['stdio', 'http'] },
];

for (const r of releases) {
  for (const transport of r.transports) {
    test(`official SDK ${r.pkg} (${r.revision}) over ${transport}: every tool, every resource`, async () => {
      await withOfficial(r.pkg, transport, async (client, t) => {
        if (transport === 'http' && t.protocolVersion) assert.equal(t.protocolVersion, r.revision);
        const revisionHas = (since) => r.revision >= since;
        await exercise(officialApi(client), { structured: revisionHas('2025-06-18'), annotations: revisionHas('2025-03-26') });
      });
    });
  }
}

test('official SDK 1.12.3 (2025-03-26) over HTTP: a JSON-RPC batch is answered as one array', async () => {
  await withOfficial('sdk-1.12.3', 'http', async (client, t) => {
    const replies = [];
    const onmessage = t.onmessage;
    t.onmessage = (m) => { if (m.id === 'b1' || m.id === 'b2') replies.push(m); else onmessage(m); };
    await t.send([
      { jsonrpc: '2.0', id: 'b1', method: 'tools/call', params: { name: 'execute_sql', arguments: { sql: 'SELECT 1 AS one' } } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'x', progress: 1 } },
      { jsonrpc: '2.0', id: 'b2', method: 'resources/read', params: { uri: 'pgmcp://demo/schema' } },
    ]);
    for (let i = 0; i < 100 && replies.length < 2; i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(replies.map((m) => m.id).sort(), ['b1', 'b2']);
    const one = replies.find((m) => m.id === 'b1');
    assert.deepEqual(JSON.parse(one.result.content[0].text).rows, [[1]]);
    assert.equal(one.result.structuredContent, undefined);
  });
});

test('official SDK 1.12.3 (2025-03-26) over stdio: a JSON-RPC batch is answered as one array', async () => {
  const { spawn } = await import('node:child_process');
  const proc = spawn(PGMCP, ['--config', writeConfig(ini)], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = [];
  let buffer = '';
  proc.stdout.on('data', (d) => {
    buffer += d;
    for (let i; (i = buffer.indexOf('\n')) >= 0; buffer = buffer.slice(i + 1)) lines.push(JSON.parse(buffer.slice(0, i)));
  });
  const send = (m) => proc.stdin.write(`${JSON.stringify(m)}\n`);
  try {
    send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'batch', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_databases', arguments: {} } }]);
    for (let i = 0; i < 100 && !lines.some(Array.isArray); i++) await new Promise((res) => setTimeout(res, 20));
    const batch = lines.find(Array.isArray);
    assert.ok(batch, JSON.stringify(lines));
    assert.deepEqual(batch.map((m) => m.id), [1, 2]);
    assert.equal(lines.find((m) => m.id === 0).result.protocolVersion, '2025-03-26');
  } finally {
    proc.kill();
  }
});

// The 2.x client in the stateless era: every request carries its revision.
for (const pkg of ['client-2.0.0', 'client-2.4.0']) {
  for (const transport of ['stdio', 'http']) {
    test(`official ${pkg} (2026-07-28) over ${transport}: every tool, every resource`, async () => {
      const mod = await import(pkg);
      let t;
      if (transport === 'stdio') {
        const { StdioClientTransport } = await import(`${pkg}/stdio`);
        t = new StdioClientTransport({ command: PGMCP, args: ['--config', writeConfig(ini)], stderr: 'ignore' });
      } else {
        t = new mod.StreamableHTTPClientTransport(new URL(http.url));
      }
      const client = new mod.Client({ name: `interop-${pkg}`, version: '1.0.0' },
        { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(t);
      try {
        await exercise(officialApi(client));
      } finally {
        await client.close();
      }
    });
  }
}

// The Vercel AI SDK's MCP client.
for (const transport of ['stdio', 'http']) {
  test(`Vercel AI SDK MCP client (@ai-sdk/mcp) over ${transport}: every tool, every resource`, async () => {
    const { experimental_createMCPClient: createMCPClient } = await import('@ai-sdk/mcp');
    let t;
    if (transport === 'stdio') {
      const { Experimental_StdioMCPTransport } = await import('@ai-sdk/mcp/mcp-stdio');
      t = new Experimental_StdioMCPTransport({ command: PGMCP, args: ['--config', writeConfig(ini)], stderr: 'ignore' });
    } else {
      t = { type: 'http', url: http.url };
    }
    const client = await createMCPClient({ transport: t });
    try {
      await exercise({
        listTools: async () => (await client.listTools()).tools,
        callTool: (name, args) => client.callTool({ name, arguments: args }),
        listResources: async () => (await client.listResources()).resources,
        listResourceTemplates: async () => (await client.listResourceTemplates()).resourceTemplates,
        readResource: async (uri) => (await client.readResource({ uri })).contents,
      });
      // and its AI SDK tools run too
      const tools = await client.tools();
      const out = await tools.execute_sql.execute({ sql: CUSTOMERS }, { toolCallId: 'c1', messages: [] });
      assert.deepEqual(out.structuredContent.rows.map((r) => r[0]).join(','), firstIds());
    } finally {
      await client.close();
    }
  });
}

// LangChain's MCP adapters: tools as LangChain tools, resources by server name.
for (const transport of ['stdio', 'http']) {
  test(`LangChain MCP adapters over ${transport}: every tool, every resource`, async () => {
    const { MultiServerMCPClient } = await import('@langchain/mcp-adapters');
    const server = transport === 'stdio'
      ? { transport: 'stdio', command: PGMCP, args: ['--config', writeConfig(ini)], stderr: 'ignore' }
      : { transport: 'http', url: http.url };
    const client = new MultiServerMCPClient({ mcpServers: { pg: server }, useStandardContentBlocks: true });
    try {
      const tools = await client.getTools();
      assert.deepEqual(tools.map((t) => t.name.replace(/^mcp__pg__/, '')).sort(),
        ['describe_table', 'execute_sql', 'explain_query', 'list_databases', 'query', 'search_objects']);
      const byName = (n) => tools.find((t) => t.name.replace(/^mcp__pg__/, '') === n);
      const text = (out) => JSON.stringify(out);
      assert.match(text(await byName('list_databases').invoke({})), /demo/);
      assert.match(text(await byName('execute_sql').invoke({ sql: CUSTOMERS })), new RegExp(firstIds().split(',')[0]));
      assert.match(text(await byName('explain_query').invoke({ sql: CUSTOMERS })), /Limit/);
      assert.match(text(await byName('describe_table').invoke({ table: 'shop.orders' })), /customer_id/);
      assert.match(text(await byName('search_objects').invoke({ pattern: 'order' })), /shop\.orders/);
      assert.match(text(await byName('query').invoke({ question: 'How many customers are there?' })), /count/);
      const resources = await client.listResources('pg');
      assert.ok(resources.pg.some((r) => r.uri === 'pgmcp://demo/schema'));
      const templates = await client.listResourceTemplates('pg');
      assert.ok(templates.pg.some((t) => t.uriTemplate.startsWith('pgmcp://{database}/table/')));
      assert.match(JSON.stringify(await client.readResource('pg', 'pgmcp://demo/table/shop/orders')), /customer_id/);
    } finally {
      await client.close();
    }
  });
}

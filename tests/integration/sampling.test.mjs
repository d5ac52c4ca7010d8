// The query tool with no LLM configured: pg-mcp asks the connected client's
// own model through sampling/createMessage. The official MCP SDK client
// answers it, over stdio and over Streamable HTTP, against a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client, CreateMessageRequestSchema, StdioClientTransport, StreamableHTTPClientTransport, writeConfig, readClusterEnv, startHttp, PGMCP } from '../e2e/lib.mjs';

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

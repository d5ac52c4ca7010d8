// The real pg-mcp over stdio, driven by the official MCP TypeScript SDK client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { PGMCP, writeConfig } from './lib.mjs';

const config = writeConfig(`[server]
transport = stdio
log_level = debug
[rate_limiter.default]
plugin = token-bucket
rate = 10/s
`);

test('an SDK client initializes, lists, calls and pings over stdio', async () => {
  const transport = new StdioClientTransport({ command: PGMCP, args: ['--config', config], stderr: 'pipe' });
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(transport);
  assert.equal(client.getServerVersion().name, 'pg-mcp');
  assert.ok(client.getServerCapabilities().tools);
  assert.match(client.getInstructions(), /list_databases/);

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('list_databases'));
  for (const t of tools) {
    assert.ok(t.description.length > 10, `${t.name} has a description`);
    assert.equal(t.inputSchema.type, 'object');
    assert.equal(typeof t.annotations.readOnlyHint, 'boolean');
  }

  const result = await client.callTool({ name: 'list_databases', arguments: {} });
  assert.deepEqual(result.structuredContent, { databases: [] });
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);

  await client.ping();
  await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /unknown tool/);
  await client.close();
});

test('stdout carries nothing but protocol messages, even with debug logging', async () => {
  const proc = spawn(PGMCP, ['--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  const lines = [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_databases', arguments: {} } },
  ];
  proc.stdin.write(lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json at all\n');
  proc.stdin.end();
  const code = await new Promise((r) => proc.on('exit', r));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /serving MCP on stdio/);  // logs went to stderr
  const out = stdout.trim().split('\n');
  assert.equal(out.length, 4);
  for (const line of out) {
    const msg = JSON.parse(line);
    assert.equal(msg.jsonrpc, '2.0');
  }
  assert.ok(out.some((l) => JSON.parse(l).error?.code === -32700));
});

test('a stateless 2026-07-28 request is served over stdio without initialize', async () => {
  const proc = spawn(PGMCP, ['--config', config], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stdin.end(JSON.stringify({
    jsonrpc: '2.0', id: 'd', method: 'server/discover',
    params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
  }) + '\n');
  await new Promise((r) => proc.on('exit', r));
  const msg = JSON.parse(stdout.trim());
  assert.equal(msg.result.resultType, 'complete');
  assert.ok(msg.result.supportedVersions.includes('2025-11-25'));
});

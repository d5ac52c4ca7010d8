// scripts/demo works: it starts PostgreSQL and pg-mcp, prints a URL, and an
// SDK client can list and query the demo database through it; Ctrl-C stops all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { Client, StreamableHTTPClientTransport } from './lib.mjs';

test('the demo serves the shop over HTTP and stops cleanly', { timeout: 120000 }, async () => {
  const root = new URL('../../', import.meta.url).pathname;
  const demo = spawn('bash', [`${root}scripts/demo`], {
    env: { ...process.env, PGMCP_DEMO_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  demo.stdout.on('data', (d) => { out += d; });
  demo.stderr.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL printed:\n${out}`)), 90000);
    const check = () => { const m = /serving the demo database at\s+(\S+)/.exec(out); if (m) { clearTimeout(t); resolve(m[1]); } };
    demo.stdout.on('data', check);
    demo.on('exit', (c) => reject(new Error(`demo exited ${c}:\n${out}`)));
  });
  try {
    const client = new Client({ name: 'demo-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const dbs = await client.callTool({ name: 'list_databases', arguments: {} });
    assert.equal(dbs.structuredContent.databases[0].name, 'demo');
    const r = await client.callTool({ name: 'execute_sql', arguments: { sql: 'SELECT count(*) FROM shop.order_totals' } });
    assert.deepEqual(r.structuredContent.rows, [[3000]]);
    const t = await client.callTool({ name: 'describe_table', arguments: { table: 'shop.order_items' } });
    assert.equal(t.structuredContent.foreign_keys.length, 2);
    await client.close();
  } finally {
    process.kill(-demo.pid, 'SIGINT');
    await new Promise((r) => demo.on('exit', r));
  }
  assert.match(out, /nothing left running/);
  const left = execFileSync('bash', ['-c', 'pgrep -f "[p]gmcp-demo-" || true'], { encoding: 'utf8' }).trim();
  assert.equal(left, '', 'no demo process is left');
});

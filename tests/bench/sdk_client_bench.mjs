// Through the official MCP SDK client over stdio, the same 1,000-row query on
// pg-mcp (execute_sql) and on the reference PostgreSQL MCP server
// (@modelcontextprotocol/server-postgres, tool "query"), in the same run.
// Prints per-call times, message sizes, tokens per row of what the model
// reads, and where the client's time goes for pg-mcp.
//   PGMCP_BIN=... node sdk_client_bench.mjs DSN SQL [calls]
import { createRequire } from 'node:module';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StdioClientTransport } from '../e2e/lib.mjs';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { encode } = require('gpt-tokenizer');  // o200k_base, the tokenizer of GPT-4o and later
const reference = require.resolve('@modelcontextprotocol/server-postgres/dist/index.js');

const [dsn, sql, callsArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'pgmcp-bench-'));
const config = join(dir, 'pg-mcp.ini');
writeFileSync(config, `[server]\nlog_level = warning\n[observability]\nlisten =\n[database.bench]\nplugin = postgres\ndsn = ${dsn}\n`);

const servers = [
  { name: 'pg-mcp', command: process.env.PGMCP_BIN, args: ['--config', config], tool: 'execute_sql' },
  { name: 'reference server-postgres', command: process.execPath, args: [reference, dsn], tool: 'query' },
];

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const ms = (x) => x.toFixed(2);

// The server process's own CPU time and minor page faults so far (/proc).
function serverCost(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = 10;  // ms per clock tick (USER_HZ = 100)
  return { faults: Number(fields[7]), cpuMs: (Number(fields[11]) + Number(fields[12])) * tick, sysMs: Number(fields[12]) * tick };
}

async function connect(server, listTools) {
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StdioClientTransport({ command: server.command, args: server.args, stderr: 'ignore' });
  await client.connect(transport);
  // With the tool list, the client validates structuredContent against the output schema.
  if (listTools) await client.listTools();
  return { client, transport };
}

async function timeCalls(client, server, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await client.callTool({ name: server.tool, arguments: { sql } }, undefined, { timeout: 60000 });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.isError) throw new Error(`${server.name}: ${r.content[0].text}`);
  }
  return times;
}

// The raw message of one answer, as it crossed the pipe.
async function rawAnswer(client, transport, server) {
  let raw = '';
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => { if (message.result) raw = JSON.stringify(message); onmessage(message, extra); };
  const r = await client.callTool({ name: server.tool, arguments: { sql } });
  transport.onmessage = onmessage;
  return { raw, result: r };
}

const rows = [];
let pgmcpDetail;
for (const server of servers) {
  const { client, transport } = await connect(server, true);
  await timeCalls(client, server, 20);  // warm up
  const before = serverCost(transport.pid);
  const times = await timeCalls(client, server, calls);
  const after = serverCost(transport.pid);
  const { raw, result } = await rawAnswer(client, transport, server);
  const rowCount = result.structuredContent?.row_count ?? JSON.parse(result.content[0].text).length;
  const textTokens = encode(result.content[0].text).length;
  rows.push({ name: server.name, p50: pct(times, 0.5), p90: pct(times, 0.9), bytes: raw.length, tokensPerRow: textTokens / rowCount, rowCount,
    cpu: (after.cpuMs - before.cpuMs) / calls, sys: (after.sysMs - before.sysMs) / calls, faults: (after.faults - before.faults) / calls });
  if (server.tool === 'execute_sql') pgmcpDetail = { raw, result, rowCount };
  await client.close();
}

// Where pg-mcp's client time goes: reading the message, and checking the
// structured result against the output schema (only after tools/list).
const noSchema = await connect(servers[0], false);
await timeCalls(noSchema.client, servers[0], 20);
const unvalidated = await timeCalls(noSchema.client, servers[0], calls);
await noSchema.client.close();
const parse = [];
for (let i = 0; i < 50; i++) { const t = process.hrtime.bigint(); JSON.parse(pgmcpDetail.raw); parse.push(Number(process.hrtime.bigint() - t) / 1e6); }
// The same answer as before this change carried it: the text block repeated the structured JSON.
const s = pgmcpDetail.result.structuredContent;
const before = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: JSON.stringify(s) }], structuredContent: s } });
const parseBefore = [];
for (let i = 0; i < 50; i++) { const t = process.hrtime.bigint(); JSON.parse(before); parseBefore.push(Number(process.hrtime.bigint() - t) / 1e6); }
const jsonTokensPerRow = encode(JSON.stringify(s.rows)).length / pgmcpDetail.rowCount;

console.log(`\nOne ${pgmcpDetail.rowCount}-row query through the official SDK client over stdio, ${calls} calls each, same run`);
console.log(`${'server'.padEnd(30)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'message KB'.padStart(11)} ${'text tokens/row'.padStart(16)} ${'CPU ms/call'.padStart(12)} ${'of it sys'.padStart(10)} ${'faults/call'.padStart(12)}`);
for (const r of rows) console.log(`${r.name.padEnd(30)} ${ms(r.p50).padStart(8)} ${ms(r.p90).padStart(8)} ${(r.bytes / 1024).toFixed(1).padStart(11)} ${r.tokensPerRow.toFixed(1).padStart(16)} ${r.cpu.toFixed(2).padStart(12)} ${r.sys.toFixed(2).padStart(10)} ${r.faults.toFixed(0).padStart(12)}`);
console.log(`pg-mcp / reference, p50: ${(rows[0].p50 / rows[1].p50).toFixed(2)}x`);
console.log(`pg-mcp without tools/list (no output-schema check): p50 ${ms(pct(unvalidated, 0.5))} ms`);
console.log(`JSON.parse of pg-mcp's message: ${ms(pct(parse, 0.5))} ms; of the same answer with the JSON text block (before): ${ms(pct(parseBefore, 0.5))} ms, ${(before.length / 1024).toFixed(1)} KB`);
console.log(`tokens per row (o200k) of the text block: table ${(rows[0].tokensPerRow).toFixed(1)}, JSON rows (before) ${jsonTokensPerRow.toFixed(1)}`);

// Helpers for the end-to-end tests: start the real pg-mcp with a config and
// find the URL it serves.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PGMCP = process.env.PGMCP_BIN;
if (!PGMCP) throw new Error('set PGMCP_BIN to the pg-mcp executable');

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'pgmcp-e2e-'));
}

export function writeConfig(text, name = 'pg-mcp.ini') {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

// Starts pg-mcp over HTTP on a free port; resolves once it logs its URL.
export function startHttp(extraIni = '', { env = {}, listen = '127.0.0.1:0', http = '', observability = '', server = '' } = {}) {
  const config = writeConfig(`[server]\ntransport = http\n${server}[http]\nlisten = ${listen}\n${http}[observability]\nlisten = ${observability}\n${extraIni}`);
  const proc = spawn(PGMCP, ['--config', config], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pg-mcp did not start:\n${stderr}`)), 10000);
    proc.stderr.on('data', (d) => {
      stderr += d;
      const m = /serving MCP at (\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          config,
          metricsUrl: () => /metrics and health at (\S+)/.exec(stderr)?.[1],
          proc,
          stderr: () => stderr,
          stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }),
        });
      }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`pg-mcp exited with ${code}:\n${stderr}`)); });
  });
}

// Runs pg-mcp to completion; resolves with its exit code and output.
export function runToExit(args, { env = {} } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(PGMCP, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

export function modernHeaders(method, name) {
  const h = { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method };
  if (name !== undefined) h['Mcp-Name'] = name;
  return h;
}

// pg-mcp over stdio with the official client; client.stderr() gives its log.
export async function connectStdio(ini, name = 'test') {
  const { Client: SdkClient } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport: Stdio } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const transport = new Stdio({ command: PGMCP, args: ['--config', writeConfig(ini)], stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new SdkClient({ name, version: '1.0.0' });
  await client.connect(transport);
  client.stderr = () => stderr;
  return client;
}

// Runs fn with a stdio client, closed whatever happens.
export async function withStdioClient(ini, fn) {
  const c = await connectStdio(ini);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

// The official SDK, for tests outside this folder (module resolution starts here).
export { Client } from '@modelcontextprotocol/sdk/client/index.js';
export { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
export { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
export { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
export { CreateMessageRequestSchema, ToolListChangedNotificationSchema, ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

// Reads the KEY='value' lines that scripts/pg-cluster start prints.
export function readClusterEnv(file) {
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)='?(.*?)'?$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

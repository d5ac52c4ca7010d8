// Authentication over HTTP: static bearer tokens, JWT as an OAuth 2.1 resource
// server (RFC 9728 metadata, 401 vs 403), and HTTPS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createSign, sign as edSign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startHttp, post, tempDir, runToExit, writeConfig } from './lib.mjs';

const servers = [];
after(async () => { for (const s of servers) await s.stop(); });
async function start(ini, opts) { const s = await startHttp(ini, opts); servers.push(s); return s; }

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'a', version: '1' } } };

test('bearer: no token or a wrong one gets 401 with a challenge; the right one works', async () => {
  const s = await start('[auth]\nmode = bearer\ntokens = alice:${E2E_TOKEN_A}, ${E2E_TOKEN_B}\n',
    { env: { E2E_TOKEN_A: 'tok-alice-0123456789', E2E_TOKEN_B: 'tok-anon-9876543210' } });
  const none = await post(s.url, INIT);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer /);
  const wrong = await post(s.url, INIT, { Authorization: 'Bearer tok-alice-0123456788' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get('www-authenticate'), /error="invalid_token"/);
  assert.equal((await post(s.url, INIT, { Authorization: 'Basic abc' })).status, 401);

  const transport = new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: { Authorization: 'Bearer tok-alice-0123456789' } } });
  const client = new Client({ name: 'auth', version: '1' });
  await client.connect(transport);
  assert.ok((await client.listTools()).tools.length > 0);
  await client.close();
  assert.equal((await post(s.url, INIT, { Authorization: 'bearer tok-anon-9876543210' })).status, 200);
  // Secrets never reach the logs.
  assert.doesNotMatch(s.stderr(), /tok-alice|tok-anon/);
});

function jwt(header, claims, privateKey) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64(header)}.${b64(claims)}`;
  let sig;
  if (header.alg === 'RS256') sig = createSign('RSA-SHA256').update(input).sign(privateKey);
  else sig = createSign('SHA256').update(input).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

test('jwt: signature, expiry, issuer, audience and scope are enforced; metadata is served', async () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = { keys: [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ] };
  const dir = tempDir();
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(jwks));
  const resource = 'https://db.example.com/mcp';
  const s = await start(`[auth]
mode = jwt
issuer = https://login.example.com/
jwks_file = ${jwksFile}
resource = ${resource}
authorization_servers = https://login.example.com/
required_scopes = mcp:query
`);
  const now = Math.floor(Date.now() / 1000);
  const good = { iss: 'https://login.example.com/', aud: resource, sub: 'alice@example.com', exp: now + 300, scope: 'openid mcp:query' };
  const auth = (t) => ({ Authorization: `Bearer ${t}` });

  const none = await post(s.url, INIT);
  assert.equal(none.status, 401);
  const challenge = none.headers.get('www-authenticate');
  assert.match(challenge, /resource_metadata="https:\/\/db\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"/);

  const meta = await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', s.url))).json();
  assert.equal(meta.resource, resource);
  assert.deepEqual(meta.authorization_servers, ['https://login.example.com/']);
  assert.deepEqual(meta.scopes_supported, ['mcp:query']);

  assert.equal((await post(s.url, INIT, auth(jwt({ alg: 'RS256', kid: 'rsa-1' }, good, rsa.privateKey)))).status, 200);
  assert.equal((await post(s.url, INIT, auth(jwt({ alg: 'ES256', kid: 'ec-1' }, good, ec.privateKey)))).status, 200);

  const cases = {
    'wrong key': jwt({ alg: 'RS256', kid: 'rsa-1' }, good, other.privateKey),
    expired: jwt({ alg: 'RS256', kid: 'rsa-1' }, { ...good, exp: now - 3600 }, rsa.privateKey),
    'not yet': jwt({ alg: 'RS256', kid: 'rsa-1' }, { ...good, nbf: now + 3600 }, rsa.privateKey),
    'other issuer': jwt({ alg: 'RS256', kid: 'rsa-1' }, { ...good, iss: 'https://evil.example.com/' }, rsa.privateKey),
    'other audience': jwt({ alg: 'RS256', kid: 'rsa-1' }, { ...good, aud: 'https://other.example.com/mcp' }, rsa.privateKey),
    'no expiry': jwt({ alg: 'RS256', kid: 'rsa-1' }, { ...good, exp: undefined }, rsa.privateKey),
    'alg none': `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`,
    garbage: 'not.a.jwt',
  };
  for (const [name, token] of Object.entries(cases)) {
    const r = await post(s.url, INIT, auth(token));
    assert.equal(r.status, 401, name);
    assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/, name);
  }
  // Valid but without the required scope: 403 insufficient_scope.
  const weak = await post(s.url, INIT, auth(jwt({ alg: 'RS256', kid: 'rsa-1' }, { ...good, scope: 'openid' }, rsa.privateKey)));
  assert.equal(weak.status, 403);
  assert.match(weak.headers.get('www-authenticate'), /error="insufficient_scope", scope="mcp:query"/);
  // An audience list containing this server is fine.
  const list = jwt({ alg: 'RS256', kid: 'rsa-1' }, { ...good, aud: ['x', resource] }, rsa.privateKey);
  assert.equal((await post(s.url, INIT, auth(list))).status, 200);
});

test('jwt: a missing JWKS file fails --check-config with the file named', async () => {
  const config = writeConfig(`[server]\ntransport = http\n[auth]\nmode = jwt\nissuer = i\njwks_file = /nonexistent/jwks.json\nresource = https://x/mcp\n`);
  const r = await runToExit(['--check-config', '--config', config]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/nonexistent\/jwks\.json/);
});

test('https: TLS with the configured certificate', async () => {
  const dir = tempDir();
  const key = join(dir, 'key.pem'), cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const s = await start('', { http: `tls_cert = ${cert}\ntls_key = ${key}\n` });
  assert.match(s.url, /^https:/);
  const { readFileSync } = await import('node:fs');
  const body = await new Promise((resolve, reject) => {
    const req = https.request(s.url, { method: 'POST', ca: readFileSync(cert), headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(INIT));
  });
  assert.equal(body.status, 200);
  assert.equal(JSON.parse(body.text).result.serverInfo.name, 'pg-mcp');
});

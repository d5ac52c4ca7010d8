// The query tool end to end: the official MCP client calls pg-mcp, which asks
// a local fake of the OpenAI or Anthropic API (their real wire protocols on
// loopback), checks the SQL with the policy and runs it on a real PostgreSQL.
// Every scripted case of the issue: right first time, repair after an error,
// writes refused and never run, prose and fences, garbage, 429 with
// Retry-After, 500s, a hang past the timeout, a circuit that opens and closes.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, readClusterEnv, startHttp, post, MODERN_META, modernHeaders, withStdioClient as withClient, writeConfig, runToExit } from '../e2e/lib.mjs';
import { startFakeLlm, lastUserText } from '../e2e/fake-llm.mjs';

const env = readClusterEnv(process.env.PGMCP_CLUSTER_ENV);
const dsn = env.PGMCP_PG_DSN;
const corpusDsn = dsn.replace(/\/demo$/, '/corpus');
const inventoryDsn = dsn.replace(/\/demo$/, '/inventory');
const admin = (sql, db = 'demo') =>
  execFileSync('psql', [env.PGMCP_PG_ADMIN_DSN.replace('dbname=demo', `dbname=${db}`), '-tAq', '-c', sql], { encoding: 'utf8' }).trim();

let fake;
before(async () => { fake = await startFakeLlm({ apiKey: 'sk-test-SECRET-123456' }); });
after(async () => { await fake?.close(); });
beforeEach(() => fake.reset());

const openai = (extra = '') => `[llm.fake]\nplugin = openai\nbase_url = ${fake.url}/v1\napi_key = sk-test-SECRET-123456\nmodel = gpt-test\nretry_base_ms = 50\n${extra}`;
const anthropic = (extra = '') => `[llm.claude]\nplugin = anthropic\nbase_url = ${fake.url}\napi_key = sk-test-SECRET-123456\nmodel = claude-test\nretry_base_ms = 50\n${extra}`;
const demo = `[database.demo]\nplugin = postgres\ndsn = ${dsn}\ndescription = The demo shop: customers, products, orders\n`;
const json = (sql, explanation = 'the answer') => JSON.stringify({ sql, explanation });
const GOOD = 'SELECT count(*) AS n FROM shop.customers';

const ask = (c, args) => c.callTool({ name: 'query', arguments: args }, undefined, { timeout: 60000 });
const text = (r) => r.content[0].text;

test('right first time (openai): rows, the SQL it ran, one attempt, the real wire format', async () => withClient(demo + openai('header.X-Team = analytics\n'), async (c) => {
  fake.script = [json(GOOD, 'counts customers')];
  const r = await ask(c, { question: 'How many customers are there?' });
  assert.equal(r.isError, undefined, text(r));
  const s = r.structuredContent;
  assert.equal(s.database, 'demo');
  assert.equal(s.sql, GOOD);
  assert.equal(s.rows[0][0], Number(admin('SELECT count(*) FROM shop.customers')));
  assert.deepEqual(s.attempts, [{ sql: GOOD, outcome: 'ok' }]);
  assert.equal(s.explanation, 'counts customers');
  const req = fake.requests[0];
  assert.equal(req.url, '/v1/chat/completions');
  assert.equal(req.body.model, 'gpt-test');
  assert.equal(req.body.messages[0].role, 'system');
  assert.deepEqual(req.body.response_format, { type: 'json_object' });
  assert.equal(req.headers['x-team'], 'analytics');
  assert.match(lastUserText(req), /shop\.customers/);  // the schema context
  assert.match(lastUserText(req), /Question: How many customers are there\?/);
}));

test('a wrong column is repaired with PostgreSQL\'s error as feedback', async () => withClient(demo + openai(), async (c) => {
  fake.script = [json('SELECT nme FROM shop.customers ORDER BY id LIMIT 1'), json('SELECT full_name FROM shop.customers ORDER BY id LIMIT 1')];
  const r = await ask(c, { question: 'What is the name of the first customer?' });
  assert.equal(r.isError, undefined, text(r));
  const s = r.structuredContent;
  assert.equal(s.attempts.length, 2);
  assert.equal(s.attempts[0].outcome, 'error');
  assert.match(s.attempts[0].error, /42703.*column "nme" does not exist/);
  assert.equal(s.attempts[1].outcome, 'ok');
  assert.equal(s.rows[0][0], admin('SELECT full_name FROM shop.customers ORDER BY id LIMIT 1'));
  // the second request carried the whole conversation and the server's error
  const second = fake.requests[1].body.messages;
  assert.deepEqual(second.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.match(second[3].content, /PostgreSQL rejected that SQL: ERROR 42703/);
}));

test('a write from the model never reaches the database, whatever its shape, even with allow_write', async () => {
  const marker = `llm-write-${Date.now()}`;
  const writes = [
    `DELETE FROM app.orders /* ${marker} */`,
    `WITH gone AS (DELETE FROM app.orders RETURNING id) SELECT count(*) FROM gone /* ${marker} */`,
    `INSERT INTO app.audit_log (action) VALUES ('${marker}')`,
    `COMMIT; DROP TABLE app.orders /* ${marker} */`,
    `SELECT pg_advisory_lock(1) /* ${marker} */`,
    `UPDATE app.orders SET total = 0 /* ${marker} */`,
  ];
  const ini = `[database.corpus]\nplugin = postgres\ndsn = ${corpusDsn}\nallow_write = true\n[tools]\nquery.max_attempts = ${writes.length}\n${openai()}`;
  await withClient(ini, async (c) => {
    fake.script = writes.map((w) => json(w));
    const r = await ask(c, { question: 'Remove all orders' });
    assert.equal(r.isError, true);
    assert.match(text(r), new RegExp(`no working SQL after ${writes.length} attempts`));
    const attempts = JSON.parse(text(r).slice(text(r).indexOf('\n') + 1)).attempts;
    assert.deepEqual(attempts.map((a) => a.outcome), writes.map(() => 'rejected'));
    assert.ok(attempts.every((a) => /\(rule (read_only|single_statement|deny_list)\)/.test(a.error)), JSON.stringify(attempts));
  });
  // (before the checks below, whose own statements name the marker)
  assert.ok(!readFileSync(`${env.PGMCP_PG_DIR}/server.log`, 'utf8').includes(marker), 'no write reached the server log');
  assert.equal(admin('SELECT count(*) FROM app.orders', 'corpus'), '200');
  assert.equal(admin('SELECT count(*) FROM app.audit_log', 'corpus'), '0');
});

test('prose around the SQL and fenced blocks are understood', async () => withClient(demo + openai(), async (c) => {
  fake.script = [
    `Sure! Here is the query you need:\n\n\`\`\`sql\n${GOOD};\n\`\`\`\n\nIt counts every customer.`,
    `The answer comes from this statement:\nSELECT count(*) AS vip FROM shop.customers WHERE vip;\nHope that helps.`,
  ];
  const fenced = await ask(c, { question: 'How many customers?' });
  assert.equal(fenced.structuredContent.sql, GOOD);
  const prose = await ask(c, { question: 'How many VIP customers?' });
  assert.equal(prose.structuredContent.sql, 'SELECT count(*) AS vip FROM shop.customers WHERE vip');
  assert.equal(prose.structuredContent.rows[0][0], Number(admin('SELECT count(*) FROM shop.customers WHERE vip')));
}));

test('garbage from the model ends in a clear error after max_attempts, with every attempt', async () => withClient(demo + openai(), async (c) => {
  fake.script = ['I am not sure what you mean.', '¯\\_(ツ)_/¯', { raw: 'this is not JSON at all' }];
  const r = await ask(c, { question: 'Tell me something' });
  assert.equal(r.isError, true);
  assert.match(text(r), /the OpenAI-compatible endpoint answered HTTP 200 with a body that is not a JSON object/);
  fake.reset();
  fake.script = ['I am not sure.', 'Still not sure.', 'No idea.'];
  const r2 = await ask(c, { question: 'Tell me something' });
  assert.match(text(r2), /no working SQL after 3 attempts; the last error: the model's answer held no SQL statement/);
}));

test('a 429 with Retry-After is waited out and retried', async () => withClient(demo + openai(), async (c) => {
  fake.script = [{ status: 429, headers: { 'Retry-After': '1' }, message: 'Rate limit reached for requests', type: 'requests' }, json(GOOD)];
  const start = Date.now();
  const r = await ask(c, { question: 'How many customers?' });
  assert.equal(r.isError, undefined, text(r));
  assert.equal(fake.requests.length, 2);
  assert.ok(Date.now() - start >= 950, 'waited for Retry-After');
}));

test('500s are retried with backoff; past max_retries the error says so; 4xx is never retried', async () => withClient(demo + openai('max_retries = 2\n'), async (c) => {
  fake.script = [{ status: 500 }, { status: 502 }, json(GOOD)];
  const ok = await ask(c, { question: 'How many customers?' });
  assert.equal(ok.isError, undefined, text(ok));
  assert.equal(fake.requests.length, 3);
  fake.reset();
  fake.script = [{ status: 500 }, { status: 500 }, { status: 500 }, json(GOOD)];
  const bad = await ask(c, { question: 'How many customers?' });
  assert.equal(bad.isError, true);
  assert.match(text(bad), /LLM 'fake' failed: the OpenAI-compatible endpoint answered HTTP 500.*\(after 3 tries\)/);
  fake.reset();
  fake.script = [{ status: 400, message: 'context length exceeded', type: 'invalid_request_error' }, json(GOOD)];
  const client = await ask(c, { question: 'How many customers?' });
  assert.match(text(client), /HTTP 400: context length exceeded/);
  assert.equal(fake.requests.length, 1);
}));

test('a provider that hangs past timeout_ms is cut off', async () => withClient(demo + openai('timeout_ms = 300\nmax_retries = 0\n'), async (c) => {
  fake.script = [{ text: json(GOOD), delayMs: 3000 }];
  const start = Date.now();
  const r = await ask(c, { question: 'How many customers?' });
  assert.equal(r.isError, true);
  assert.match(text(r), /no answer from .* within 300 ms/);
  assert.ok(Date.now() - start < 2500);
}));

test('cancelling a query call abandons the LLM request in flight: the provider sees the connection close long before the timeout', async () => withClient(demo + openai('timeout_ms = 60000\nmax_retries = 0\n'), async (c) => {
  fake.script = [{ text: json(GOOD), delayMs: 45000 }, json(GOOD)];
  const abort = new AbortController();
  const pending = c.callTool({ name: 'query', arguments: { question: 'How many customers?' } }, undefined, { signal: abort.signal, timeout: 60000 });
  const sentBy = Date.now() + 15000;
  while (fake.requests.length === 0 && Date.now() < sentBy) await new Promise((r) => setTimeout(r, 20));
  assert.equal(fake.requests.length, 1, 'the LLM request was sent');
  const cancelledAt = Date.now();
  abort.abort('the user changed their mind');
  await assert.rejects(pending);
  const closedBy = Date.now() + 15000;
  while (fake.aborted.length === 0 && Date.now() < closedBy) await new Promise((r) => setTimeout(r, 20));
  assert.equal(fake.aborted.length, 1, 'the provider saw the connection close');
  // well inside the 45 s the provider would take and the 60 s timeout
  assert.ok(fake.aborted[0].at - cancelledAt < 15000);
  assert.equal(fake.requests.length, 1, 'a cancelled call is not retried');
  // the server goes on: the next call is answered
  const r = await ask(c, { question: 'How many customers?' });
  assert.equal(r.isError, undefined, text(r));
  assert.equal(r.structuredContent.sql, GOOD);
}));

// The operator's vocabulary: a word no schema defines ("VIP revenue") and an
// example question with its SQL reach the model, and every example must pass
// the database's policy before pg-mcp starts.
const vocabularyFile = (vocabulary) => {
  const file = join(tempDir(), `vocabulary-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(vocabulary));
  return file;
};
const VOCABULARY = {
  terms: [{ term: 'VIP revenue', also: ['VR'], means: 'the total of orders placed by customers whose vip flag is true', tables: ['shop.orders'], columns: ['shop.customers.vip'] }],
  examples: [
    { question: 'How many VIP customers are there?', sql: 'SELECT count(*) FROM shop.customers WHERE vip' },
    { question: 'Which products are books?', sql: "SELECT name FROM shop.products WHERE category = 'books'" },
  ],
};

test('vocabulary: the terms a question uses and the closest example reach the prompt', async () => withClient(
  demo + openai() + `[tools]\nquery.vocabulary_file = ${vocabularyFile(VOCABULARY)}\n`, async (c) => {
    fake.script = [json(GOOD)];
    const r = await ask(c, { question: 'What is our VR from VIP customers this year?' });
    assert.equal(r.isError, undefined, text(r));
    const prompt = lastUserText(fake.requests[0]);
    assert.match(prompt, /Terms \(the operator's definitions\):\n- VIP revenue \(also: VR\): the total of orders placed by customers whose vip flag is true \[see shop\.orders, shop\.customers\.vip\]/);
    assert.match(prompt, /Question: How many VIP customers are there\?\nSQL: SELECT count\(\*\) FROM shop\.customers WHERE vip/);
    assert.doesNotMatch(prompt, /products are books/, 'an example that shares no word with the question stays out');
    fake.reset();
    fake.script = [json(GOOD)];
    await ask(c, { question: 'How many products are there?' });
    assert.doesNotMatch(lastUserText(fake.requests[0]), /Terms \(the operator's/, 'no term used, no terms shown');
  }));

test('vocabulary: an example the policy refuses, or that PostgreSQL cannot run, stops pg-mcp from starting, saying which and why', async () => {
  const cases = [
    [{ question: 'Delete the old orders', sql: "DELETE FROM shop.orders WHERE placed_at < now() - interval '1 year'" }, /examples\[0\] \("Delete the old orders"\) on database 'demo': the policy refuses its SQL: DELETE is not allowed.*\(rule read_only\)/],
    [{ question: 'What are the customers\' emails?', sql: 'SELECT email FROM shop.customers' }, /examples\[0\] .* on database 'demo': the policy refuses its SQL: blocked column customers\.email \(rule blocked_columns\)/],
    [{ question: 'Names?', sql: 'SELECT nme FROM shop.customers' }, /examples\[0\] .* PostgreSQL rejects its SQL: .*42703/],
    [{ question: 'Other?', sql: 'SELECT 1', database: 'nowhere' }, /examples\[0\]\.database: 'nowhere' names no \[database\.nowhere\] section/],
  ];
  for (const [example, expected] of cases) {
    const file = vocabularyFile({ examples: [example] });
    const config = writeConfig(demo + 'blocked_columns = shop.customers.email\n' + openai() + `[tools]\nquery.vocabulary_file = ${file}\n`);
    const r = await runToExit(['--config', config]);
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, expected);
    assert.match(r.stderr, new RegExp(file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  }
  const bad = writeConfig(demo + openai() + `[tools]\nquery.vocabulary_file = ${vocabularyFile({ terms: [{ term: 'x' }] })}\n`);
  const r = await runToExit(['--config', bad]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /terms\[0\]\.means: is required/);
});

test('sample_values: common values of few-valued text columns reach the model from pg_stats, never a blocked column\'s', async () => {
  admin('ANALYZE shop.customers');
  const countries = admin("SELECT string_agg(DISTINCT country, ',') FROM shop.customers").split(',');
  await withClient(demo + 'sample_values = true\n' + openai(), async (c) => {
    fake.reset();
    fake.script = [json(GOOD)];
    await ask(c, { question: 'How many customers per country?' });
    const line = lastUserText(fake.requests[0]).split('\n').find((l) => l.trim().startsWith('country '));
    assert.match(line, /\(common values: '/, line);
    for (const name of countries.slice(0, 3)) assert.ok(line.includes(`'${name}'`), `${name} in ${line}`);
  });
  await withClient(demo + 'sample_values = true\nblocked_columns = shop.customers.country\n' + openai(), async (c) => {
    fake.reset();
    fake.script = [json(GOOD)];
    await ask(c, { question: 'How many customers per country?' });
    const prompt = lastUserText(fake.requests[0]);
    assert.match(prompt, /category text not null \(common values: /, 'other columns keep theirs');
    assert.doesNotMatch(prompt, /\n\s+country /);
    for (const name of countries) assert.ok(!prompt.includes(`'${name}'`), name);
  });
  await withClient(demo + openai(), async (c) => {  // off by default
    fake.reset();
    fake.script = [json(GOOD)];
    await ask(c, { question: 'How many customers per country?' });
    assert.doesNotMatch(lastUserText(fake.requests[0]), /common values/);
  });
});

test('the circuit opens after breaker_failures, fails fast, and closes after breaker_reset_s', async () => withClient(
  demo + openai('max_retries = 0\nbreaker_failures = 2\nbreaker_reset_s = 1\n'), async (c) => {
    fake.script = [{ status: 503 }, { status: 503 }];
    await ask(c, { question: 'q1' });
    await ask(c, { question: 'q2' });
    assert.equal(fake.requests.length, 2);
    const open = await ask(c, { question: 'q3' });
    assert.match(text(open), /circuit is open: failing fast for another \d+ s \(nothing was sent\)/);
    assert.equal(fake.requests.length, 2, 'nothing was sent while open');
    await new Promise((r) => setTimeout(r, 1200));
    fake.script = [json(GOOD)];
    const closed = await ask(c, { question: 'How many customers?' });
    assert.equal(closed.isError, undefined, text(closed));
  }));

test('anthropic: the Messages API, its headers, and swapping providers is a config change', async () => withClient(demo + anthropic(), async (c) => {
  fake.script = [`\`\`\`sql\n${GOOD}\n\`\`\``];
  const r = await ask(c, { question: 'How many customers are there?' });
  assert.equal(r.isError, undefined, text(r));
  assert.equal(r.structuredContent.sql, GOOD);
  const req = fake.requests[0];
  assert.equal(req.url, '/v1/messages');
  assert.equal(req.headers['anthropic-version'], '2023-06-01');
  assert.equal(typeof req.body.system, 'string');
  fake.reset();
  fake.script = [{ status: 529, message: 'Overloaded', type: 'overloaded_error' }, json(GOOD)];
  const retried = await ask(c, { question: 'How many customers are there?' });
  assert.equal(retried.isError, undefined, text(retried));
  assert.equal(fake.requests.length, 2);
}));

test('verify: a low-confidence result is regenerated with the explanation as feedback', async () => withClient(
  `${demo}[tools]\nquery.verify = true\nquery.min_confidence = 70\n${openai()}`, async (c) => {
    fake.script = [
      json('SELECT count(*) FROM shop.products'), JSON.stringify({ confidence: 10, explanation: 'this counts products, not customers' }),
      json(GOOD), JSON.stringify({ confidence: 95, explanation: 'the number of customers' }),
    ];
    const r = await ask(c, { question: 'How many customers?' });
    assert.equal(r.isError, undefined, text(r));
    const s = r.structuredContent;
    assert.equal(s.confidence, 95);
    assert.deepEqual(s.attempts.map((a) => a.outcome), ['low_confidence', 'ok']);
    assert.match(lastUserText(fake.requests[2]), /does not seem to answer the question: this counts products, not customers/);
  }));

test('return_type "sql" checks the SQL and does not run it', async () => withClient(demo + openai(), async (c) => {
  fake.script = [json(GOOD)];
  const r = await ask(c, { question: 'How many customers?', return_type: 'sql' });
  assert.equal(r.isError, undefined, text(r));
  assert.equal(r.structuredContent.sql, GOOD);
  assert.equal(r.structuredContent.rows, undefined);
  fake.script = [json('DELETE FROM shop.orders'), json('DELETE FROM shop.orders'), json('DELETE FROM shop.orders')];
  const bad = await ask(c, { question: 'Delete the orders', return_type: 'sql' });
  assert.equal(bad.isError, true);
}));

test('the database is chosen from the question, and an unclear choice lists them', async () => withClient(
  `${demo}[database.inventory]\nplugin = postgres\ndsn = ${inventoryDsn}\ndescription = Warehouse stock levels by SKU\n${openai()}`, async (c) => {
    fake.script = [JSON.stringify({ database: 'inventory' }), json("SELECT quantity FROM public.stock WHERE sku = 'SKU-0001'")];
    const r = await ask(c, { question: 'How many units of SKU-0001 are in stock?' });
    assert.equal(r.isError, undefined, text(r));
    assert.equal(r.structuredContent.database, 'inventory');
    assert.deepEqual(r.structuredContent.rows, [[12]]);
    assert.match(lastUserText(fake.requests[0]), /- inventory: Warehouse stock levels by SKU/);
    fake.script = [JSON.stringify({ database: null, reason: 'both could hold it' })];
    const unclear = await ask(c, { question: 'How many?' });
    assert.match(text(unclear), /does not make clear which database to use \(both could hold it\); pass "database", one of: demo \(The demo shop.*\), inventory \(Warehouse/);
  }));

test('limits: a long question, the LLM rate limiter; secrets never reach errors or logs', async () => withClient(
  `${demo}[tools]\nquery.max_question_chars = 50\n[rate_limiter.llm]\nplugin = token-bucket\nrate = 1/h\nburst = 1\n${openai('rate_limiter = llm\n')}`, async (c) => {
    const long = await ask(c, { question: 'x'.repeat(51) });
    assert.match(text(long), /the question is 51 characters long; the limit is 50 \(max_question_chars\)/);
    fake.script = [json(GOOD)];
    assert.equal((await ask(c, { question: 'How many customers?' })).isError, undefined);
    const limited = await ask(c, { question: 'How many customers?' });
    assert.match(text(limited), /rate limited on LLM 'fake', retry after \d+ s; nothing was sent/);
    assert.equal(fake.requests.length, 1);
    assert.ok(!c.stderr().includes('SECRET'), 'the key is not logged');
  }));

test('a rejected key: the provider\'s message comes back without the key', async () => withClient(
  demo + openai().replace('sk-test-SECRET-123456', 'sk-wrong-SECRET-999999'), async (c) => {
    const r = await ask(c, { question: 'How many customers?' });
    assert.equal(r.isError, true);
    assert.match(text(r), /HTTP 401: Incorrect API key provided: Bearer \*\*\*/);
    assert.ok(!text(r).includes('sk-wrong') && !c.stderr().includes('sk-wrong'));
  }));

test('progress per stage over HTTP; metrics: llm calls by status, latency, tokens, query attempts, rejections', async () => {
  const s = await startHttp(demo + openai(), { observability: '127.0.0.1:0' });
  try {
    for (let i = 0; i < 50 && !s.metricsUrl(); i++) await new Promise((r) => setTimeout(r, 20));
    fake.script = [json('DELETE FROM shop.orders'), json(GOOD)];
    const r = await post(s.url, { jsonrpc: '2.0', id: 1, method: 'tools/call',
      params: { name: 'query', arguments: { question: 'How many customers?' }, _meta: { ...MODERN_META, progressToken: 'p1' } } },
    modernHeaders('tools/call', 'query'));
    // progress streams first (SSE), then the result: every stage is visible
    const events = r.text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    const stages = events.filter((e) => e.method === 'notifications/progress').map((e) => e.params.message);
    assert.deepEqual(stages, ['building the schema context', 'asking fake for SQL (attempt 1 of 3)',
      'checking the SQL against the policy', 'asking fake for SQL (attempt 2 of 3)',
      'checking the SQL against the policy', 'running the SQL']);
    const result = events.find((e) => e.id === 1).result;
    assert.equal(result.isError, undefined, r.text);
    assert.deepEqual(result.structuredContent.attempts.map((a) => a.outcome), ['rejected', 'ok']);
    const m = await (await fetch(`${s.metricsUrl()}/metrics`)).text();
    assert.match(m, /pg_mcp_llm_calls_total\{llm="fake",status="ok"\} 2/);
    assert.match(m, /pg_mcp_llm_latency_seconds_count\{llm="fake"\} 2/);
    assert.match(m, /pg_mcp_llm_tokens_total\{llm="fake",type="prompt"\} 200/);
    assert.match(m, /pg_mcp_llm_tokens_total\{llm="fake",type="completion"\} 40/);
    assert.match(m, /pg_mcp_query_attempts_sum 2/);
    assert.match(m, /pg_mcp_sql_rejections_total\{database="demo",reason="read_only"\} 1/);
  } finally {
    await s.stop();
  }
});

test('HTTPS: certificates are verified by default; ca_file trusts a private CA', async () => {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const secure = await startFakeLlm({ apiKey: 'sk-test-SECRET-123456', tls: { key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) } });
  try {
    const llm = (extra) => `[llm.tls]\nplugin = openai\nbase_url = ${secure.url}/v1\napi_key = sk-test-SECRET-123456\nmodel = gpt-test\nmax_retries = 0\n${extra}`;
    await withClient(demo + llm(''), async (c) => {
      secure.script = [json(GOOD)];
      const r = await ask(c, { question: 'How many customers?' });
      assert.equal(r.isError, true);
      assert.match(text(r), /TLS with https:\/\/127\.0\.0\.1:\d+\/v1 failed: .*is the certificate trusted\? see ca_file/);
      assert.equal(secure.requests.length, 0, 'nothing was sent over an unverified connection');
    });
    await withClient(demo + llm(`ca_file = ${dir}/cert.pem\n`), async (c) => {
      secure.script = [json(GOOD)];
      const r = await ask(c, { question: 'How many customers?' });
      assert.equal(r.isError, undefined, text(r));
      assert.equal(r.structuredContent.sql, GOOD);
    });
  } finally {
    await secure.close();
  }
});

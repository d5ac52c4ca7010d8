// Real models' SQL through the whole query pipeline: for each question of
// BIRD mini-dev, a local stand-in of the OpenAI API answers first with what a
// real model wrote for it (as the benchmark published it), then with the gold
// SQL. pg-mcp extracts the SQL, checks it with the policy (text stage and the
// server's analysis), runs it read-only on the benchmark's schemas (no rows),
// and feeds any refusal or PostgreSQL error back: the figures say how the
// first answers fared (by policy rule and by SQLSTATE) and how many the
// repair turned into a working query. The gold SQL alone is the control: a
// refusal of it would be a false refusal.
//   PGMCP_BIN=... node bird_models_bench.mjs DATASET DSN
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StdioClientTransport } from '../e2e/lib.mjs';
import { startFakeLlm } from '../e2e/fake-llm.mjs';

const [dataset, dsn] = process.argv.slice(2);
const questions = JSON.parse(readFileSync(join(dataset, 'mini_dev_postgresql.json'), 'utf8'));
const databases = [...new Set(questions.map((q) => q.db_id))].sort();
const models = readdirSync(join(dataset, 'predictions')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
const verbose = process.env.BENCH_VERBOSE === '1';

const fake = await startFakeLlm({ apiKey: 'bench-key' });
const dir = mkdtempSync(join(tmpdir(), 'pgmcp-bird-'));
const config = join(dir, 'pg-mcp.ini');
let ini = '[server]\nlog_level = error\n[observability]\nlisten =\n';
ini += `[llm.fake]\nplugin = openai\nbase_url = ${fake.url}/v1\napi_key = bench-key\nmodel = bench\nmax_retries = 0\n`;
ini += '[tools]\nquery.max_attempts = 2\n';
for (const db of databases) ini += `[database.${db}]\nplugin = postgres\ndsn = ${dsn}\nsearch_path = ${db}\nmax_rows = 100\n`;
writeFileSync(config, ini);

const client = new Client({ name: 'bird-bench', version: '1' });
await client.connect(new StdioClientTransport({ command: process.env.PGMCP_BIN, args: ['--config', config], stderr: 'inherit' }));

// What became of one attempt: ok, refused:<rule>, error:<SQLSTATE>, no_sql.
function outcome(a) {
  if (!a) return 'none';
  if (a.outcome === 'ok') return 'ok';
  if (a.outcome === 'rejected') return `refused:${/\(rule ([a-z_]+)\)/.exec(a.error)?.[1] ?? '?'}`;
  if (a.outcome === 'error') return `error:${/ERROR ([0-9A-Z]{5})/.exec(a.error)?.[1] ?? '?'}`;
  return a.outcome;
}

async function ask(db, question, answers) {
  fake.reset();
  fake.script = [...answers];
  fake.fallback = answers[answers.length - 1];
  const r = await client.callTool({ name: 'query', arguments: { question, database: db } }, undefined, { timeout: 120000 });
  // A call that ends with no working SQL is a tool error whose text carries the attempts.
  let attempts = r.structuredContent?.attempts;
  if (!attempts) {
    const t = r.content?.[0]?.text ?? '';
    try { attempts = JSON.parse(t.slice(t.indexOf('{'))).attempts; } catch { attempts = []; }
  }
  attempts ??= [];
  return { first: outcome(attempts[0]), second: outcome(attempts[1]), attempts, text: r.content?.[0]?.text };
}

const tally = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k} ${v}`).join(', ');

console.log('Real models\' SQL through the query pipeline (first answer: the model\'s; second: the gold SQL)');
console.log(`${'answers by'.padEnd(34)} ${'n'.padStart(4)} ${'ran'.padStart(5)} ${'refused'.padStart(8)} ${'pg error'.padStart(9)} ${'repaired'.padStart(9)}  refusals by rule; errors by SQLSTATE`);
const start = Date.now();
for (const who of ['gold SQL (control)', ...models]) {
  const predictions = who.startsWith('gold') ? null : JSON.parse(readFileSync(join(dataset, 'predictions', `${who}.json`), 'utf8'));
  let ran = 0, refused = 0, errors = 0, repaired = 0, failed = 0;
  const rules = new Map(), states = new Map();
  for (let i = 0; i < questions.length; i++) {
    const q = questions[i];
    const first = predictions ? String(predictions[String(i)] ?? '').split('\t----- bird -----\t')[0] : q.SQL;
    const { first: f, second: s, text } = await ask(q.db_id, q.question, predictions ? [first, q.SQL] : [first]);
    if (f === 'ok') ran++;
    else if (f.startsWith('refused:')) { refused++; tally(rules, f.slice(8)); }
    else if (f.startsWith('error:')) { errors++; tally(states, f.slice(6)); }
    else failed++;
    if (f !== 'ok' && s === 'ok') repaired++;
    if (verbose && f !== 'ok') console.log(`  #${i} ${q.db_id}: ${f}${s !== 'none' ? ` -> ${s}` : ''}: ${first.replace(/\s+/g, ' ').slice(0, 160)}${f === 'none' ? ` [${text}]` : ''}`);
  }
  const notes = [top(rules, 6), top(states, 4), failed ? `other ${failed}` : ''].filter(Boolean).join('; ');
  console.log(`${who.padEnd(34)} ${String(questions.length).padStart(4)} ${String(ran).padStart(5)} ${String(refused).padStart(8)} ${String(errors).padStart(9)} ${String(predictions ? repaired : '-').padStart(9)}  ${notes}`);
}
console.log(`(${((Date.now() - start) / 1000).toFixed(1)} s; a repair is the gold SQL passing after the model's answer failed)`);
await client.close();
await fake.close();

// Runs the official MCP conformance suites against the real pg-mcp over HTTP.
//
// Each run has a baseline of the scenarios that need the suite's own fixtures
// (test_* tools, test:// resources, test_* prompts, diagnostic tools), which a
// database server does not expose. The suite fails a run whose failures differ
// from its baseline; on top of that, every failing *check* inside a baselined
// scenario must be a fixture dependency, so a real regression hidden inside a
// partly-fixture scenario (server-stateless, say) still fails.
//
// Usage: node conformance.mjs   (needs Node >= 22; PGMCP_BIN names pg-mcp)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHttp, tempDir } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const suites = {
  legacy: join(here, 'node_modules/conformance-legacy/dist/index.js'),
  next: join(here, 'node_modules/conformance-next/dist/index.js'),
};
const runs = [
  { name: '0.1.16 (2025-11-25 and 2025-06-18 scenarios)', suite: 'legacy', args: ['--suite', 'all'], baseline: 'legacy-0.1.16.yml' },
  { name: '0.2 --spec-version 2025-06-18', suite: 'next', args: ['--spec-version', '2025-06-18'], baseline: '2025-06-18.yml' },
  { name: '0.2 --spec-version 2025-11-25', suite: 'next', args: ['--spec-version', '2025-11-25'], baseline: '2025-11-25.yml' },
  { name: '0.2 --requirements 2026-07-28', suite: 'next', args: ['--requirements', '2026-07-28'], baseline: '2026-07-28.yml' },
];

// What a failure caused only by a missing fixture says.
const FIXTURE = [
  /unknown tool '(test_|json_schema_2020_12_tool)/,
  /unknown prompt/,
  /Resource not found: test:\/\//,
  /Tool '[a-z0-9_]+' not found\. Available tools/,
  /Not testable: server (does not list the diagnostic tool|exposes no tool with x-mcp-header)/,
  /Not testable: server exposes no tool with x-mcp-header/,
  /tool 'test_/i,
  /prompt 'test_/i,
];
// Checks whose message does not name the fixture they need (they call
// test_input_required_result_multi_round and ..._tampered_state).
const FIXTURE_CHECKS = new Set(['sep-2322-multi-round-r1', 'sep-2322-reject-tampered-state']);
const isFixture = (check) => FIXTURE_CHECKS.has(check.id) ||
  FIXTURE.some((re) => re.test(`${check.errorMessage ?? ''} ${JSON.stringify(check.details ?? '')}`));

function baselineScenarios(file) {
  return readFileSync(join(here, 'conformance', file), 'utf8')
    .split('\n').map((l) => /^\s*-\s*([a-z0-9-]+)/.exec(l)?.[1]).filter(Boolean);
}

const server = await startHttp('', { http: 'max_sessions = 100000\n' });
let failed = 0;
try {
  for (const run of runs) {
    const out = tempDir();
    const r = spawnSync(process.execPath, [suites[run.suite], 'server', '--url', server.url, ...run.args,
      '--expected-failures', join(here, 'conformance', run.baseline), '-o', out], { encoding: 'utf8', timeout: 600000 });
    const summary = r.stdout.slice(r.stdout.indexOf('=== SUMMARY ==='));
    console.log(`\n### ${run.name}\n${summary.trim()}`);
    if (r.status !== 0) {
      failed++;
      console.log(`FAIL: ${run.name}: the suite exited ${r.status} (failures differ from ${run.baseline})\n${r.stderr}`);
    }
    // Every failing check in a baselined scenario must be a fixture dependency.
    const baselined = new Set(baselineScenarios(run.baseline));
    for (const dir of readdirSync(out)) {
      const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
      const file = join(out, dir, 'checks.json');
      if (!baselined.has(scenario) || !existsSync(file)) continue;
      for (const check of JSON.parse(readFileSync(file, 'utf8'))) {
        if (check.status !== 'FAILURE' || isFixture(check)) continue;
        if (scenario.startsWith('tasks-')) continue;  // an extension pg-mcp does not offer; not scored
        failed++;
        console.log(`FAIL: ${run.name}: ${scenario}/${check.id}: ${check.errorMessage} (not a fixture dependency)`);
      }
    }
  }
} finally {
  await server.stop();
}
console.log(failed === 0 ? '\nconformance: every non-fixture scenario passes' : `\nconformance: ${failed} problem(s)`);
process.exit(failed === 0 ? 0 : 1);

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentConfigError, loadAgentConfig } from './agent-config.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-agent-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const context = { env: {}, nowMs: Date.parse('2030-01-01T00:00:00Z') };
const job = { name: 'files', source: { kind: 'directory', path: '/srv/files' }, schedule: '@daily', destination: { bucket: 'backups' } };

function file(value: unknown): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

test('an agent config: the endpoint and the jobs, in the server syntax', () => {
  const config = loadAgentConfig(file({ endpoint: 'https://vault.internal:9470', jobs: [job] }), context);
  assert.equal(config.endpoint, 'https://vault.internal:9470');
  assert.deepEqual(config.jobs.map((j) => j.name), ['files']);
});

test('mistakes name the file, the setting and the fix; credentials are not settings', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['{ not json', /Cannot read the agent config .*Fix: pass a JSON file/],
    [{ endpoint: 'https://v', jobs: [job], accessKeyId: 'AKIA' }, /unknown setting "accessKeyId".*credentials come from AWS_ACCESS_KEY_ID/],
    [{ endpoint: 'vault:9470', jobs: [job] }, /endpoint "vault:9470" is not an http\(s\) URL/],
    [{ endpoint: 'https://v', jobs: [] }, /no jobs\. Fix: give at least one job/],
    [{ endpoint: 'https://v', jobs: [{ ...job, alertRoutes: ['oncall'] }] }, /jobs\[0\] "files"\.alertRoutes: names the channel "oncall", which is not configured\. Fix: use one of log/],
    [{ endpoint: 'https://v', jobs: [{ ...job, retention: { keepDays: 91 } }] }, /jobs\[0\] "files"\.retention\.keepDays: 91 days exceeds/],
  ];
  for (const [value, message] of cases) assert.throws(() => loadAgentConfig(file(value), context), (e: unknown) => e instanceof AgentConfigError && message.test(e.message), String(message));
});

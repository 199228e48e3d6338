import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generatedSecrets } from '../../../../test/support/image-fixtures.js';
import { loadSecretRules } from '../../secrets/secret-rules.js';
import { scanDeploymentManifests } from './manifest-scan.js';

const ruleSet = loadSecretRules();
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const secrets = generatedSecrets();
let scratch: string;
let counter = 0;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-manifests-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function scan(name: string, text: string) {
  const dir = join(scratch, `case-${counter++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), text);
  return scanDeploymentManifests(dir, ruleSet);
}
const ruleIds = async (name: string, text: string) => (await scan(name, text)).findings.map((finding) => finding.ruleId);

/** A Deployment that passes every check; each case changes one thing. */
function deployment(container: string[] = [], pod: string[] = [], securityContext = ['runAsNonRoot: true', 'allowPrivilegeEscalation: false', 'readOnlyRootFilesystem: true', 'capabilities:', '  drop: [ALL]']): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    'spec:',
    '  template:',
    '    spec:',
    ...pod.map((line) => `      ${line}`),
    '      containers:',
    '        - name: app',
    `          image: ghcr.io/acme/web:1.4.2@${DIGEST}`,
    '          securityContext:',
    ...securityContext.map((line) => `            ${line}`),
    ...container.map((line) => `          ${line}`),
  ].join('\n');
}

function compose(service: string[]): string {
  return ['services:', '  web:', `    image: ghcr.io/acme/web:1.4.2@${DIGEST}`, '    read_only: true', ...service.map((line) => `    ${line}`)].join('\n');
}

describe('Kubernetes checks: positive and negative per rule', () => {
  test('the clean Deployment gives no finding', async () => assert.deepEqual((await scan('web.yaml', deployment())).findings, []));

  const base = ['runAsNonRoot: true', 'allowPrivilegeEscalation: false', 'readOnlyRootFilesystem: true'];
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['k8s-privileged', deployment([], [], [...base, 'privileged: true']), deployment([], [], [...base, 'privileged: false'])],
    ['k8s-privilege-escalation', deployment([], [], ['runAsNonRoot: true', 'readOnlyRootFilesystem: true']), deployment()],
    ['k8s-run-as-root', deployment([], ['securityContext:', '  runAsUser: 0'], ['allowPrivilegeEscalation: false', 'readOnlyRootFilesystem: true']), deployment([], ['securityContext:', '  runAsUser: 10001'], ['allowPrivilegeEscalation: false', 'readOnlyRootFilesystem: true'])],
    ['k8s-run-as-non-root-missing', deployment([], [], ['allowPrivilegeEscalation: false', 'readOnlyRootFilesystem: true']), deployment([], ['securityContext:', '  runAsNonRoot: true'], ['allowPrivilegeEscalation: false', 'readOnlyRootFilesystem: true'])],
    ['k8s-run-as-non-root-missing', deployment([], [], ['runAsNonRoot: false', 'allowPrivilegeEscalation: false', 'readOnlyRootFilesystem: true']), deployment()],
    ['k8s-writable-root-filesystem', deployment([], [], ['runAsNonRoot: true', 'allowPrivilegeEscalation: false']), deployment()],
    ['k8s-host-namespace', deployment([], ['hostNetwork: true']), deployment([], ['hostNetwork: false'])],
    ['k8s-host-namespace', deployment([], ['hostPID: true']), deployment()],
    ['k8s-host-path', deployment([], ['volumes:', '  - name: docker', '    hostPath: { path: /var/run/docker.sock }']), deployment([], ['volumes:', '  - name: tmp', '    emptyDir: {}'])],
    ['k8s-capabilities-added', deployment([], [], [...base, 'capabilities:', '  add: [SYS_ADMIN]']), deployment([], [], [...base, 'capabilities:', '  add: [NET_BIND_SERVICE]'])],
    ['manifest-image-latest', deployment(['image: nginx']).replace(/ {10}image: ghcr[^\n]*\n/, ''), deployment()],
    ['manifest-image-unpinned', deployment().replace(`@${DIGEST}`, ''), deployment()],
    ['manifest-admin-port', deployment(['ports:', '  - containerPort: 22']), deployment(['ports:', '  - containerPort: 8080'])],
    ['manifest-env-secret', deployment(['env:', '  - name: GITHUB_TOKEN', `    value: ${secrets.githubToken}`]), deployment(['env:', '  - name: GITHUB_TOKEN', '    valueFrom:', '      secretKeyRef: { name: gh, key: token }'])],
    ['manifest-env-secret-literal', deployment(['env:', '  - name: DB_PASSWORD', '    value: hunter2']), deployment(['env:', '  - name: DB_HOST', '    value: db'])],
    ['manifest-default-credential', deployment(['env:', '  - name: POSTGRES_PASSWORD', '    value: postgres']), deployment(['env:', '  - name: POSTGRES_USER', '    value: postgres'])],
    ['k8s-secret-in-manifest', 'apiVersion: v1\nkind: Secret\nmetadata: { name: db }\nstringData:\n  password: x\n', 'apiVersion: v1\nkind: Secret\nmetadata: { name: db }\ntype: Opaque\n'],
  ];
  for (const [rule, positive, negative] of cases) {
    test(`${rule}`, async () => {
      assert.ok((await ruleIds('k8s.yaml', positive)).includes(rule), `${rule} fires:\n${positive}`);
      assert.ok(!(await ruleIds('k8s.yaml', negative)).includes(rule), `${rule} stays quiet:\n${negative}`);
    });
  }

  test('CronJobs, Lists and multi-document files are read; lines point at the field', async () => {
    const cronJob = ['apiVersion: batch/v1', 'kind: CronJob', 'metadata: { name: nightly }', 'spec:', '  jobTemplate:', '    spec:', '      template:', '        spec:', '          containers:', '            - name: job', '              image: busybox:1.36', '              securityContext:', '                privileged: true'].join('\n');
    const list = `apiVersion: v1\nkind: List\nitems:\n${deployment([], ['hostIPC: true']).split('\n').map((line, index) => (index === 0 ? `  - ${line}` : `    ${line}`)).join('\n')}`;
    const result = await scan('all.yaml', `${deployment()}\n---\n${cronJob}\n---\n${list}\n---\nsome: other\n`);
    const privileged = result.findings.find((finding) => finding.ruleId === 'k8s-privileged')!;
    assert.equal(privileged.location.within, 'CronJob/nightly container job');
    assert.equal(privileged.location.line, deployment().split('\n').length + 1 + 13);
    assert.ok(result.findings.some((finding) => finding.ruleId === 'k8s-host-namespace' && finding.location.within === 'Deployment/web'));
    assert.deepEqual(result.facts, { yamlFiles: 1, kubernetesObjects: 3, workloads: 3, composeServices: 0, otherDocuments: 1 });
    assert.ok(!JSON.stringify(result).includes(secrets.githubToken));
  });

  test('a Helm template is reported as not readable, not a crash', async () => {
    const result = await scan('template.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }\n  labels: {{- include "x" . | nindent 4 }}\n');
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0]!.message, /not valid YAML/);
  });
});

describe('compose checks: positive and negative per rule', () => {
  test('a clean compose file gives no finding', async () => assert.deepEqual((await scan('compose.yaml', compose(['ports: ["8080:8080"]', 'environment:', '  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}']))).findings, []));
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['compose-privileged', compose(['privileged: true']), compose(['privileged: false'])],
    ['compose-host-namespace', compose(['network_mode: host']), compose(['network_mode: bridge'])],
    ['compose-capabilities-added', compose(['cap_add: [NET_ADMIN]']), compose(['cap_add: [NET_BIND_SERVICE]'])],
    ['compose-runs-as-root', compose(['user: root']), compose(['user: "10001:10001"'])],
    ['compose-runs-as-root', compose(['user: "0:0"']), compose([])],
    ['compose-writable-root-filesystem', `services:\n  web:\n    image: ghcr.io/acme/web:1.4.2@${DIGEST}`, compose([])],
    ['compose-writable-root-filesystem', `services:\n  web:\n    image: ghcr.io/acme/web:1.4.2@${DIGEST}\n    read_only: false`, compose(['tmpfs: [/tmp]'])],
    ['manifest-admin-port', compose(['ports: ["2222:22"]']), compose(['ports: ["22000:8080"]'])],
    ['manifest-admin-port', compose(['ports:', '  - target: 22', '    published: 2222']), compose(['ports:', '  - target: 8080', '    published: 22'])],
    ['manifest-image-latest', 'services:\n  db:\n    image: postgres\n', 'services:\n  db:\n    build: .\n'],
    ['manifest-image-unpinned', 'services:\n  db:\n    image: ${DB_IMAGE:-postgres:16}\n', `services:\n  db:\n    image: postgres:16@${DIGEST}\n`],
    ['manifest-env-secret', compose(['environment:', `  - GITHUB_TOKEN=${secrets.githubToken}`]), compose(['environment:', '  - GITHUB_TOKEN']) ],
    ['manifest-default-credential', compose(['environment:', '  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}']), compose(['environment:', '  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}'])],
    ['manifest-default-credential', compose(['environment:', '  - RABBITMQ_DEFAULT_PASS=guest']), compose(['environment:', '  - RABBITMQ_DEFAULT_USER=guest'])],
  ];
  test('a service without read_only is reported at the service, read_only: false at its line; user: root at its line', async () => {
    const text = `services:\n  web:\n    image: ghcr.io/acme/web:1.4.2@${DIGEST}\n  worker:\n    image: ghcr.io/acme/worker:2@${DIGEST}\n    user: "0"\n    read_only: false\n`;
    const findings = (await scan('compose.yaml', text)).findings.map((finding) => `${finding.ruleId} ${finding.location.line} ${finding.location.within} ${finding.evidence}`);
    assert.deepEqual(findings, [
      'compose-writable-root-filesystem 3 service web read_only is not set (defaults to false)',
      'compose-runs-as-root 6 service worker user: 0',
      'compose-writable-root-filesystem 7 service worker read_only: false',
    ]);
  });
  for (const [rule, positive, negative] of cases) {
    test(`${rule}: ${positive.split('\n').at(-1)!.trim().slice(0, 50)}`, async () => {
      assert.ok((await ruleIds('docker-compose.yml', positive)).includes(rule), `${rule} fires:\n${positive}`);
      assert.ok(!(await ruleIds('docker-compose.yml', negative)).includes(rule), `${rule} stays quiet:\n${negative}`);
    });
  }
});

import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../../infra/clock.js';
import { badImage, dockerSaveTarball, goodImage } from '../../../../test/support/image-fixtures.js';
import { collectConfigItems } from '../collect-config-items.js';
import { NO_SOURCES } from '../config-sources.js';
import { checkConfigItems } from './check-config-items.js';
import { parseSuppressions } from './config-suppressions.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: prod }
spec:
  template:
    spec:
      securityContext: { runAsNonRoot: true, runAsUser: 10001 }
      containers:
        - name: app
          image: registry.example.com/api:1.4.2@${DIGEST}
          env:
            - { name: DB_PASSWORD, valueFrom: { secretKeyRef: { name: db, key: password } } }
        - name: sidecar
          image: envoyproxy/envoy:v1.30
          securityContext: { runAsUser: 0 }
---
apiVersion: batch/v1
kind: Job
metadata: { name: migrate }
spec:
  template:
    spec:
      containers:
        - name: migrate
          image: registry.example.com/api:latest
          env:
            - { name: POSTGRES_PASSWORD, value: postgres }
`;
const COMPOSE = `services:
  web:
    image: nginx:1.27@${DIGEST}
    user: "101"
  db:
    image: postgres:16
    user: root
    environment:
      POSTGRES_PASSWORD: changeme
`;
const DOCKERFILE = `FROM golang:1.22 AS build
RUN go build -o /app .
FROM gcr.io/distroless/static-debian12@${DIGEST}
COPY --from=build /app /app
USER 65532
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-config-containers-'));
  await mkdir(join(dir, 'deploy'));
  await writeFile(join(dir, 'deploy', 'api.yaml'), DEPLOYMENT);
  await writeFile(join(dir, 'deploy', 'compose.yaml'), COMPOSE);
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(dir, 'bad.tar'), dockerSaveTarball(badImage()));
  await writeFile(join(dir, 'good.tar'), dockerSaveTarball(goodImage()));
});
after(() => rm(dir, { recursive: true, force: true }));

const clock = new ManualClock(Date.UTC(2030, 5, 1));

async function collect() {
  return collectConfigItems({ ...NO_SOURCES, manifests: [{ path: join(dir, 'deploy') }], dockerfiles: [{ path: join(dir, 'Dockerfile') }], images: [{ path: join(dir, 'bad.tar') }, { path: join(dir, 'good.tar') }] }, { clock, root: dir });
}

test('containers from manifests, compose, a Dockerfile and image archives: pinning and root are judged', async () => {
  const collection = await collect();
  const ids = collection.items.map((item) => item.resourceId);
  assert.ok(ids.includes('k8s:prod/Deployment/api/app') && ids.includes('compose:deploy/compose.yaml/db') && ids.includes('dockerfile:Dockerfile'), ids.join('\n'));
  const hits = (rule: string) => checkConfigItems(collection.items, { clock }).filter((finding) => finding.ruleId === rule).map((finding) => finding.resourceId).sort();
  // The build stage's base counts too: what is built from an unpinned base can change under the same tag.
  assert.deepEqual(hits('image-not-digest-pinned'), ['compose:deploy/compose.yaml/db', 'dockerfile:Dockerfile', 'k8s:default/Job/migrate/migrate', 'k8s:prod/Deployment/api/sidecar']);
  assert.match(checkConfigItems(collection.items, { clock }).find((finding) => finding.resourceId === 'dockerfile:Dockerfile')!.evidence, /FROM golang:1\.22 without/);
  const root = hits('container-runs-as-root');
  assert.ok(root.includes('compose:deploy/compose.yaml/db') && root.includes('k8s:prod/Deployment/api/sidecar'), root.join(', '));
  assert.equal(root.includes('k8s:prod/Deployment/api/app'), false);
  assert.equal(root.includes('dockerfile:Dockerfile'), false);
  assert.equal(root.filter((id) => id.startsWith('image:')).length, 1, `exactly the bad image runs as root: ${root.join(', ')}`);
  assert.deepEqual(hits('env-default-credential'), ['compose:deploy/compose.yaml/db', 'k8s:default/Job/migrate/migrate']);
  // Inputs are recorded with their SHA-256; manifest values only as fingerprints.
  assert.ok(collection.inputs.find((input) => input.location === 'Dockerfile')?.sha256?.match(/^[0-9a-f]{64}$/));
  assert.equal(JSON.stringify(collection).includes('changeme'), false);
});

test('suppressions need reason, owner and expiry; an active one hides the finding, an expired one does not', async () => {
  const { items } = await collect();
  assert.throws(() => parseSuppressions([{ rule: 'container-runs-as-root', resource: 'x', owner: 'ana' }], 'sources.yaml'), /lacks reason, expires/);
  assert.throws(() => parseSuppressions([{ rule: 'no-such-rule', resource: 'x', reason: 'r', owner: 'o', expires: '2030-01-01' }], 'sources.yaml'), /no rule "no-such-rule"/);
  const suppressions = parseSuppressions(
    [
      { rule: 'container-runs-as-root', resource: 'k8s:prod/Deployment/api/*', reason: 'envoy needs root to bind iptables until 1.31', owner: 'ana@example.org', expires: '2030-06-30' },
      { rule: 'image-not-digest-pinned', resource: 'compose:deploy/compose.yaml/db', reason: 'local development only', owner: 'bo@example.org', expires: '2030-05-31' },
    ],
    'sources.yaml',
  );
  const findings = checkConfigItems(items, { clock, suppressions });
  const sidecar = findings.find((finding) => finding.ruleId === 'container-runs-as-root' && finding.resourceId === 'k8s:prod/Deployment/api/sidecar')!;
  assert.equal(sidecar.suppression?.status, 'active');
  const db = findings.find((finding) => finding.ruleId === 'image-not-digest-pinned' && finding.resourceId === 'compose:deploy/compose.yaml/db')!;
  assert.equal(db.suppression?.status, 'expired', 'expired on 2030-05-31, the clock is at 2030-06-01');
  // The last day holds: on 2030-06-30 the first is still active, on 2030-07-01 it lapses.
  assert.equal(checkConfigItems(items, { clock: new ManualClock(Date.UTC(2030, 5, 30, 23, 59)), suppressions }).find((finding) => finding.fingerprint === sidecar.fingerprint)?.suppression?.status, 'active');
  assert.equal(checkConfigItems(items, { clock: new ManualClock(Date.UTC(2030, 6, 1)), suppressions }).find((finding) => finding.fingerprint === sidecar.fingerprint)?.suppression?.status, 'expired');
});

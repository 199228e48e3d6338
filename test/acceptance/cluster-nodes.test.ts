// Scale-out, several stateless nodes: two Holdfast servers (clusterNode) with separate data
// directories, one scratch PostgreSQL schema for metadata (and one for the configuration guard),
// one S3 backend (a third Holdfast vault) and one shared sealing key file, behaving as one vault
// to the AWS SDK v3: what is written through A is read, listed and refused through B; a key made
// through A signs on B; concurrent PUTs of one key through both agree on one version list; a node
// killed mid-traffic leaves the other serving; and both nodes' audit chains verify.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { clientFor, createIdentityWithKey, holdfast, type KeyPair } from '../support/admin-cli.js';
import { POSTGRES_TEST_URL, postgresUnreachable, scratchSchema } from '../support/postgres.js';
import { expectS3Error, sdkClient } from '../support/sdk-client.js';
import { randomCredentials, type RunningVault, startVault } from '../support/vault-server.js';

const BLOB_BUCKET = 'cluster-blobs';
const DAY_MS = 24 * 3600 * 1000;

async function text(client: S3Client, bucket: string, key: string, versionId?: string): Promise<string> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return answer.Body!.transformToString();
}

async function versionsOf(client: S3Client, bucket: string, key: string): Promise<Array<{ id: string; latest: boolean }>> {
  const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  assert.notEqual(page.IsTruncated, true);
  return (page.Versions ?? []).map((v) => ({ id: v.VersionId!, latest: v.IsLatest === true }));
}

void test('two cluster nodes on one PostgreSQL schema and one S3 backend serve as one vault', { timeout: 240_000 }, async (t) => {
  const unreachable = await postgresUnreachable();
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return;
  }
  const metadataSchema = scratchSchema('holdfast_cluster_meta');
  const guardSchema = scratchSchema('holdfast_cluster_guard');
  t.after(async () => {
    await metadataSchema.drop();
    await guardSchema.drop();
  });
  const backend = await startVault();
  t.after(() => backend.stop());
  const backendClient = sdkClient(backend);
  t.after(() => backendClient.destroy());
  await backendClient.send(new CreateBucketCommand({ Bucket: BLOB_BUCKET }));

  const work = await mkdtemp(join(tmpdir(), 'holdfast-cluster-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const keyFile = join(work, 'secret-box.key');
  await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const root = randomCredentials();
  const clusterEnv = {
    HOLDFAST_CLUSTER_NODE: 'true',
    HOLDFAST_SECRET_BOX_KEY_FILE: keyFile,
    HOLDFAST_METADATA_POSTGRES_URL: POSTGRES_TEST_URL,
    HOLDFAST_METADATA_POSTGRES_SCHEMA: metadataSchema.schema,
    HOLDFAST_CONFIG_GUARD_POSTGRES_URL: POSTGRES_TEST_URL,
    HOLDFAST_CONFIG_GUARD_POSTGRES_SCHEMA: guardSchema.schema,
    HOLDFAST_BLOB_S3_ENDPOINT: backend.endpoint,
    HOLDFAST_BLOB_S3_BUCKET: BLOB_BUCKET,
    HOLDFAST_BLOB_S3_PREFIX: 'cluster/',
    HOLDFAST_BLOB_S3_ACCESS_KEY_ID: backend.accessKeyId,
    HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY: backend.secretAccessKey,
    // Small objects become blobs too, so reads through B really fetch bytes A stored in S3.
    HOLDFAST_INLINE_OBJECT_BYTES: '16',
    HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey,
    HOLDFAST_AUDIT_LOG_STREAM: 'none',
  };
  const dirA = join(work, 'node-a');
  const dirB = join(work, 'node-b');
  // Both at once: the first start of a cluster races on creating the schema and system buckets.
  const started = await Promise.all([startVault({ dataDir: dirA, env: clusterEnv }), startVault({ dataDir: dirB, env: clusterEnv })]);
  let [nodeA, nodeB] = started;
  t.after(() => nodeA.stop());
  t.after(() => nodeB.stop());
  const clients: S3Client[] = [];
  t.after(() => {
    for (const client of clients) client.destroy();
  });
  const client = (node: RunningVault, key: KeyPair = root) => {
    const made = clientFor(node, key);
    clients.push(made);
    return made;
  };
  const a = client(nodeA);
  const b = client(nodeB);

  // A single (non-cluster) server is refused on the cluster's schema.
  await assert.rejects(
    startVault({ env: { ...clusterEnv, HOLDFAST_CLUSTER_NODE: 'false' } }),
    (e: Error) => /A single \(non-cluster\) server|Another process holds the PostgreSQL schema/.test(e.message) && /metadataPostgresSchema/.test(e.message),
  );

  // Written through A: read and listed through B, bytes fetched from the shared backend.
  await a.send(new CreateBucketCommand({ Bucket: 'shared' }));
  await a.send(new PutObjectCommand({ Bucket: 'shared', Key: 'from-a.txt', Body: 'written through node A' }));
  assert.equal(await text(b, 'shared', 'from-a.txt'), 'written through node A');
  const listed = await b.send(new ListObjectsV2Command({ Bucket: 'shared' }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), ['from-a.txt']);

  // An access key created through A signs on B at once; disabled through A, refused on B at once.
  const writer = await createIdentityWithKey(nodeA, root, 'cluster-writer', ['backup-writer'], ['--service']);
  const writerOnB = client(nodeB, writer);
  await writerOnB.send(new PutObjectCommand({ Bucket: 'shared', Key: 'by-writer.txt', Body: 'signed with a key made on A' }));
  assert.equal(await text(a, 'shared', 'by-writer.txt'), 'signed with a key made on A');
  await holdfast(nodeA, root, ['admin', 'keys', 'disable', writer.accessKeyId]);
  await expectS3Error(writerOnB.send(new PutObjectCommand({ Bucket: 'shared', Key: 'after-disable.txt', Body: 'x' })), 'InvalidAccessKeyId', 403);

  // Compliance retention set through A holds on B.
  await a.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  const locked = await a.send(
    new PutObjectCommand({ Bucket: 'locked', Key: 'evidence.txt', Body: 'keep me', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() + DAY_MS) }),
  );
  await expectS3Error(b.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'evidence.txt', VersionId: locked.VersionId })), 'AccessDenied', 403);
  assert.equal(await text(b, 'locked', 'evidence.txt', locked.VersionId), 'keep me');

  // Concurrent PUTs of one key through both nodes: every write is a version, exactly one is
  // latest, both nodes list the same versions in the same order, and GET serves the latest.
  await a.send(new CreateBucketCommand({ Bucket: 'contended' }));
  await b.send(new PutBucketVersioningCommand({ Bucket: 'contended', VersioningConfiguration: { Status: 'Enabled' } }));
  const writes = await Promise.all(
    Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a : b).send(new PutObjectCommand({ Bucket: 'contended', Key: 'one-key', Body: `write ${i} through ${i % 2 === 0 ? 'A' : 'B'}` }))),
  );
  const [seenByA, seenByB] = await Promise.all([versionsOf(a, 'contended', 'one-key'), versionsOf(b, 'contended', 'one-key')]);
  assert.deepEqual(seenByA, seenByB);
  assert.deepEqual(new Set(seenByA.map((v) => v.id)), new Set(writes.map((w) => w.VersionId)));
  assert.deepEqual(seenByA.map((v) => v.latest), [true, ...Array<boolean>(writes.length - 1).fill(false)]);
  const latest = await Promise.all([a, b].map((c) => c.send(new GetObjectCommand({ Bucket: 'contended', Key: 'one-key' }))));
  assert.deepEqual(latest.map((r) => r.VersionId), [seenByA[0]!.id, seenByA[0]!.id]);

  // The leader (one node runs the once-per-cluster work) killed mid-traffic: every request to
  // the other node keeps succeeding, and that node takes the lead.
  const leaders = [nodeA, nodeB].filter((node) => /: leading/.test(node.output()));
  assert.equal(leaders.length, 1, 'exactly one node leads');
  const aLeads = leaders[0] === nodeA;
  const [victim, survivor, survivorClient] = aLeads ? [nodeA, nodeB, b] : [nodeB, nodeA, a];
  const victimClient = aLeads ? a : b;
  let served = 0;
  let tenServed!: () => void;
  const servedTen = new Promise<void>((resolve) => (tenServed = resolve));
  const traffic = (async () => {
    for (let i = 0; i < 40; i++) {
      await survivorClient.send(new PutObjectCommand({ Bucket: 'shared', Key: `during-kill/${i}`, Body: `item ${i}` }));
      assert.equal(await text(survivorClient, 'shared', 'from-a.txt'), 'written through node A');
      if (++served === 10) tenServed();
    }
  })();
  const victimTraffic = (async () => {
    // Requests in flight on the victim when it dies may fail; they are not the survivor's to answer.
    for (let i = 0; i < 40; i++) await victimClient.send(new PutObjectCommand({ Bucket: 'shared', Key: `on-victim/${i}`, Body: 'x' })).catch(() => undefined);
  })();
  // Raced against the traffic itself: a request failing before the tenth ends the wait with its error.
  await Promise.race([servedTen, traffic]);
  await victim.kill9();
  await traffic;
  await victimTraffic;
  assert.equal(served, 40);
  assert.equal((await survivorClient.send(new ListObjectsV2Command({ Bucket: 'shared', Prefix: 'during-kill/' }))).KeyCount, 40);
  // Bounded (30 s): the survivor retries the lead every 5 s.
  for (let i = 0; i < 600 && !/: leading/.test(survivor.output()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.match(survivor.output(), /: leading/, 'the survivor took the lead');

  // The victim restarts on its own data directory (its node id and audit chain are there); every
  // node's audit chain verifies, each signed by its own checkpoints in the shared system bucket.
  const restarted = await startVault({ dataDir: aLeads ? dirA : dirB, env: clusterEnv });
  if (aLeads) nodeA = restarted;
  else nodeB = restarted;
  assert.equal(await text(client(restarted), 'shared', 'during-kill/39'), 'item 39');
  const chains = new Set<string>();
  for (const node of [nodeA, nodeB]) {
    const verified = JSON.parse((await holdfast(node, root, ['audit', 'verify', '--json'])).stdout) as { ok: boolean; chain: string; entriesChecked: number };
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.ok(verified.entriesChecked > 0);
    chains.add(verified.chain);
  }
  assert.equal(chains.size, 2, 'each node keeps its own chain');
});

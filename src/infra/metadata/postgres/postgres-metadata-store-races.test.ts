import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { POSTGRES_TEST_URL, postgresUnreachable, scratchSchema } from '../../../../test/support/postgres.js';
import { S3Error, s3errors } from '../../../domain/errors.js';
import type { BucketRecord } from '../../../domain/model.js';
import type { NewObjectVersion } from '../../../domain/ports.js';
import { PostgresMetadataStore } from './postgres-metadata-store.js';

/**
 * Races between cluster nodes, made deterministic: a plain connection plays the other node. It
 * takes the row lock the other node's operation would take and holds it until the store's
 * operation is seen waiting for a lock (pg_stat_activity), then commits the other node's change.
 * A store that checked without locking (check-then-act) would act on what it read before that
 * commit; these tests catch exactly that.
 * Locally an unreachable PostgreSQL skips them; in CI it fails them.
 */
const unreachable = await postgresUnreachable();
const scratches: Array<ReturnType<typeof scratchSchema>> = [];
after(async () => {
  for (const scratch of scratches) await scratch.drop();
});

const bucket: BucketRecord = { name: 'b', createdAtMs: 1, region: 'us-east-1', versioning: 'Enabled', objectLockEnabled: true, defaultRetention: undefined, retentionBounds: undefined, controls: {} };
const version = (key: string, data: NewObjectVersion['data']): NewObjectVersion => ({
  bucket: 'b',
  key,
  isDeleteMarker: false,
  size: 1,
  etag: '"e"',
  lastModifiedMs: 1,
  headers: {},
  checksum: undefined,
  partSizes: [],
  data,
  retention: undefined,
  legalHold: undefined,
});

interface Fixture {
  readonly schema: string;
  readonly store: PostgresMetadataStore;
  /** The other node: a connection of its own. */
  readonly other: pg.Client;
  /** Resolves once some statement on this schema waits for a lock. */
  readonly waiting: () => Promise<void>;
  readonly close: () => Promise<void>;
}

async function fixture(t: { skip(message: string): void }): Promise<Fixture | undefined> {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return undefined;
  }
  const scratch = scratchSchema('holdfast_races');
  scratches.push(scratch);
  const store = await PostgresMetadataStore.open(POSTGRES_TEST_URL, { schema: scratch.schema });
  await store.createBucket(bucket);
  const other = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await other.connect();
  const watcher = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await watcher.connect();
  const waiting = async () => {
    // The statement under test is issued before this is called and blocks at once; bounded at
    // 30 s so that a loaded machine is given time but a store that never waits fails.
    const giveUpMs = Date.now() + 30_000;
    while (Date.now() < giveUpMs) {
      const { rows } = await watcher.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 IN query) > 0",
        [scratch.schema],
      );
      if (Number(rows[0]?.n) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail('the operation under test never waited for the lock');
  };
  return {
    schema: scratch.schema,
    store,
    other,
    waiting,
    close: async () => {
      await Promise.all([other.end(), watcher.end(), store.close()]);
    },
  };
}

const refuseHeld = (current: { legalHold: boolean | undefined }) => {
  if (current.legalHold === true) throw s3errors.accessDenied('held');
};

test('a legal hold committed by another node while a delete waits is seen by the delete, which refuses', async (t) => {
  const f = await fixture(t);
  if (f === undefined) return;
  try {
    const { version: stored } = await f.store.putObjectVersion(version('k', { kind: 'inline', data: Buffer.from('x') }));
    const versions = `${pg.escapeIdentifier(f.schema)}.versions`;
    // The other node's PutObjectLegalHold: lock the version row, then set the hold.
    await f.other.query('BEGIN');
    await f.other.query(`SELECT 1 FROM ${versions} WHERE bucket = 'b' AND key = 'k' AND version_id = $1 FOR UPDATE`, [stored.versionId]);
    const deletion = f.store.deleteObjectVersion('b', 'k', stored.versionId, refuseHeld);
    deletion.catch(() => undefined);
    await f.waiting();
    await f.other.query(`UPDATE ${versions} SET legal_hold = true WHERE bucket = 'b' AND key = 'k' AND version_id = $1`, [stored.versionId]);
    await f.other.query('COMMIT');
    await assert.rejects(deletion, (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
    assert.equal((await f.store.getObjectVersion('b', 'k', stored.versionId))?.legalHold, true, 'the held version is still there');
  } finally {
    await f.close();
  }
});

test('a multipart completion waiting while another node aborts the upload fails NoSuchUpload and records no version', async (t) => {
  const f = await fixture(t);
  if (f === undefined) return;
  try {
    const part = { kind: 'blobs' as const, blobs: [{ blobId: 'a'.repeat(32), size: 1 }] };
    await f.store.createUpload({ bucket: 'b', key: 'm', uploadId: 'u', initiatedMs: 1, headers: {}, checksumAlgorithm: undefined, lock: { retention: undefined, legalHold: undefined } });
    await f.store.putPart('b', 'm', { uploadId: 'u', partNumber: 1, size: 1, etag: '"p"', lastModifiedMs: 1, checksum: undefined, data: part });
    const s = pg.escapeIdentifier(f.schema);
    // The other node's AbortMultipartUpload: lock the upload, remove it and its parts (whose blobs it then deletes).
    await f.other.query('BEGIN');
    await f.other.query(`SELECT 1 FROM ${s}.uploads WHERE upload_id = 'u' FOR UPDATE`);
    const completion = f.store.completeUpload('b', 'm', 'u', version('m', part), [1]);
    completion.catch(() => undefined);
    await f.waiting();
    await f.other.query(`DELETE FROM ${s}.parts WHERE upload_id = 'u'`);
    await f.other.query(`DELETE FROM ${s}.uploads WHERE upload_id = 'u'`);
    await f.other.query('COMMIT');
    await assert.rejects(completion, (e: unknown) => e instanceof S3Error && e.code === 'NoSuchUpload');
    assert.equal(await f.store.getObjectVersion('b', 'm'), undefined, 'no version points at the aborted parts\u2019 deleted blobs');
  } finally {
    await f.close();
  }
});

test('a retention extended by another node while a delete waits is seen by the delete, which refuses', async (t) => {
  const f = await fixture(t);
  if (f === undefined) return;
  try {
    const { version: stored } = await f.store.putObjectVersion(version('r', { kind: 'inline', data: Buffer.from('x') }));
    const versions = `${pg.escapeIdentifier(f.schema)}.versions`;
    await f.other.query('BEGIN');
    await f.other.query(`SELECT 1 FROM ${versions} WHERE bucket = 'b' AND key = 'r' AND version_id = $1 FOR UPDATE`, [stored.versionId]);
    const deletion = f.store.deleteObjectVersion('b', 'r', stored.versionId, (current) => {
      if (current.retention !== undefined) throw s3errors.accessDenied('retained');
    });
    deletion.catch(() => undefined);
    await f.waiting();
    await f.other.query(`UPDATE ${versions} SET retention_mode = 'COMPLIANCE', retain_until_ms = 9999999999999 WHERE bucket = 'b' AND key = 'r' AND version_id = $1`, [stored.versionId]);
    await f.other.query('COMMIT');
    await assert.rejects(deletion, (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
    assert.equal((await f.store.getObjectVersion('b', 'r', stored.versionId))?.retention?.mode, 'COMPLIANCE');
  } finally {
    await f.close();
  }
});

test('a write stuck behind another node\'s lock is ended by the statement timeout (ServiceUnavailable) and records nothing', async (t) => {
  const f = await fixture(t);
  if (f === undefined) return;
  // Its own store with a short statement timeout (the default is minutes, see METADATA_POOL_TIMEOUTS).
  const impatient = await PostgresMetadataStore.open(POSTGRES_TEST_URL, { schema: f.schema, timeouts: { statementTimeoutMs: 500 } });
  try {
    // The other node holds the bucket row and does not let go until the write has failed.
    await f.other.query('BEGIN');
    await f.other.query(`SELECT 1 FROM ${pg.escapeIdentifier(f.schema)}.buckets WHERE name = 'b' FOR UPDATE`);
    // Bounded: without a statement timeout the write would wait for as long as the lock is held.
    let bound: NodeJS.Timeout | undefined;
    const unbounded = new Promise<never>((_, reject) => {
      bound = setTimeout(() => reject(new Error('the write was still waiting for the lock after 30 s')), 30_000);
    });
    try {
      await assert.rejects(
        Promise.race([impatient.putObjectVersion(version('stuck', { kind: 'inline', data: Buffer.from('x') })), unbounded]),
        (e: unknown) => e instanceof S3Error && e.code === 'ServiceUnavailable',
      );
    } finally {
      clearTimeout(bound);
    }
    await f.other.query('ROLLBACK');
    assert.equal(await f.store.getObjectVersion('b', 'stuck'), undefined);
  } finally {
    // Lets a write still waiting go on (when the test failed), so the pools can close.
    await f.other.query('ROLLBACK');
    await impatient.close();
    await f.close();
  }
});

test('a bucket policy stored while another node sets the protected flag keeps the flag (controls updated on the locked row)', async (t) => {
  const f = await fixture(t);
  if (f === undefined) return;
  try {
    const buckets = `${pg.escapeIdentifier(f.schema)}.buckets`;
    // The other node's "protect the bucket": lock the row, then set the flag.
    await f.other.query('BEGIN');
    await f.other.query(`SELECT 1 FROM ${buckets} WHERE name = 'b' FOR UPDATE`);
    const policy = '{"Version":"2012-10-17","Statement":[]}';
    const put = f.store.updateBucketControls('b', (controls) => ({ ...controls, policy }));
    put.catch(() => undefined);
    await f.waiting();
    await f.other.query(`UPDATE ${buckets} SET controls = '{"protected":true}' WHERE name = 'b'`);
    await f.other.query('COMMIT');
    assert.deepEqual((await put).controls, { protected: true, policy });
    assert.deepEqual((await f.store.getBucket('b'))?.controls, { protected: true, policy });
  } finally {
    await f.close();
  }
});

// Interop: S3 Object Lock (issue 3, "## Object Lock") with boto3 — the Debian python3-boto3, run by
// /usr/bin/python3. object_lock_boto3.py reports what it saw; this file judges it against AWS's
// behaviour (notes s3-object-lock-and-clients.md §1). What boto3 adds over the SDK suite: its own
// integrity header on the required-checksum operations (Content-MD5 before boto3 1.36, a CRC32 from
// 1.36 on), and its own serialisation of dates and of the bypass header. Version ids are the server's and are only compared
// with each other; dates are computed here from Date.now().
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { md5Hex, sha256, tempDir } from '../support/file-tree.js';
import { requireBoto3, runBoto3Script } from '../support/boto3.js';
import { startVault } from '../support/vault-server.js';


/** [code, HTTP status] of a failed call; null if it succeeded. */
type Failure = [string, number] | null;
interface LockReport {
  boto3: string;
  versioning: string | null;
  suspend: Failure;
  lock_configuration: unknown;
  both_periods: Failure;
  version_ids: [string, string];
  heads: Record<'compliance' | 'governance', [string | null, string | null, string | null]>;
  compliance_retention: [string, string];
  refused: Record<string, Failure>;
  delete_objects: { status: number; deleted: [string, string | null][]; errors: [string, string | null, string][] };
  delete_marker: [number, boolean | null, string | null];
  legal_hold_after_off: string;
  governance_shortened: [string, string];
  delete_governance_bypass: Failure;
  compliance_after: { sha256: string; etag: string; put_etag: string };
  bare_locked_put: Failure;
  bare_headers: string[][];
  plain: {
    locked_put: Failure;
    get_retention: Failure;
    get_lock_configuration: Failure;
    bypass_delete_objects: { deleted: string[]; errors: unknown[] };
  };
  integrity_headers: Record<string, string[]>;
}

void test('boto3: Object Lock configuration, retention, legal hold and protected deletes', { timeout: 120_000 }, async (t) => {
  if (!(await requireBoto3(t))) return;
  const vault = await startVault();
  t.after(() => vault.stop());
  const work = await tempDir(t);
  const onSecond = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);
  const retainUntil = onSecond(60 * 60_000);
  const shorterUntil = onSecond(30 * 60_000);
  const body = randomBytes(4096);

  const report = await runBoto3Script<LockReport>('object_lock_boto3.py', vault, work, {
      endpoint: vault.endpoint,
      bucket: 'boto3-lock',
      plain_bucket: 'boto3-no-lock',
      retain_until: retainUntil.toISOString(),
      shorter_until: shorterUntil.toISOString(),
      body_hex: body.toString('hex'),
    }, 90_000);
  const time = (iso: string | null) => (iso === null ? null : new Date(iso).getTime());

  assert.equal(report.versioning, 'Enabled', 'a lock bucket is versioned from the start');
  assert.deepEqual(report.suspend, ['InvalidBucketState', 409]);
  assert.deepEqual(report.lock_configuration, { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
  assert.deepEqual(report.both_periods, ['MalformedXML', 400]);

  const [complianceId, governanceId] = report.version_ids;
  assert.ok(complianceId !== governanceId && complianceId !== 'null' && governanceId !== 'null', 'real, distinct version ids');
  const [cMode, cUntil, cHold] = report.heads.compliance;
  assert.deepEqual([cMode, time(cUntil), cHold], ['COMPLIANCE', retainUntil.getTime(), null], 'HEAD: no legal-hold header when never set');
  const [gMode, gUntil, gHold] = report.heads.governance;
  assert.deepEqual([gMode, time(gUntil), gHold], ['GOVERNANCE', retainUntil.getTime(), 'ON']);
  assert.deepEqual([report.compliance_retention[0], time(report.compliance_retention[1])], ['COMPLIANCE', retainUntil.getTime()]);

  assert.deepEqual(report.refused, {
    compliance_shorten_bypass: ['AccessDenied', 403],
    compliance_to_governance_bypass: ['AccessDenied', 403],
    governance_shorten: ['AccessDenied', 403],
    governance_remove: ['AccessDenied', 403],
    delete_compliance: ['AccessDenied', 403],
    delete_compliance_bypass: ['AccessDenied', 403],
    delete_held_governance_bypass: ['AccessDenied', 403],
  });
  assert.deepEqual(report.delete_objects, {
    status: 200,
    deleted: [],
    errors: [
      ['compliance', complianceId, 'AccessDenied'],
      ['governance', governanceId, 'AccessDenied'],
    ],
  });
  const [markerStatus, isMarker, markerId] = report.delete_marker;
  assert.deepEqual([markerStatus, isMarker], [204, true], 'a delete marker on top of a locked version');
  assert.ok(markerId !== null && !report.version_ids.includes(markerId));

  assert.equal(report.legal_hold_after_off, 'OFF');
  assert.deepEqual([report.governance_shortened[0], time(report.governance_shortened[1])], ['GOVERNANCE', shorterUntil.getTime()]);
  assert.equal(report.delete_governance_bypass, null, 'governance without a hold: deletable with bypass');
  assert.deepEqual(report.compliance_after, { sha256: sha256(body), etag: `"${md5Hex(body)}"`, put_etag: `"${md5Hex(body)}"` });

  assert.deepEqual(report.bare_locked_put, ['InvalidRequest', 400], 'a locked PUT with no Content-MD5 and no x-amz-checksum-*');
  assert.equal(report.bare_headers.length, 1);
  assert.deepEqual(
    (report.bare_headers[0] ?? []).filter((name) => name === 'content-md5' || name.startsWith('x-amz-checksum-')),
    [],
    'the bare PUT really went without an integrity header',
  );
  assert.deepEqual(report.plain, {
    locked_put: ['InvalidRequest', 400],
    get_retention: ['InvalidRequest', 400],
    get_lock_configuration: ['ObjectLockConfigurationNotFoundError', 404],
    bypass_delete_objects: { deleted: ['a'], errors: [] },
  });

  // Whichever integrity header this boto3 sends on these operations (MD5, or CRC32 from 1.36 on),
  // the server accepted it: every call above succeeded or failed for its lock reason.
  for (const operation of ['PutObjectLockConfiguration', 'PutObjectRetention', 'PutObjectLegalHold', 'DeleteObjects']) {
    const headers = report.integrity_headers[operation] ?? assert.fail(`no ${operation} request recorded`);
    assert.ok(headers.length > 0, `${operation} carried an integrity header (${report.boto3})`);
  }
});

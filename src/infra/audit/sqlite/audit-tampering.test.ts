import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { type AuditCheckpoint, type CheckpointSink, parseAuditCheckpoint, signCheckpoint } from '../../../domain/audit/audit-checkpoint.js';
import { AuditCheckpointer } from '../../../domain/audit/audit-checkpointer.js';
import { AuditLog } from '../../../domain/audit/audit-log.js';
import { sealAuditEntry } from '../../../domain/audit/canonical-encoding.js';
import { requestFields } from '../../../domain/audit/in-memory-audit-store.test-fixture.js';
import { type AuditVerification, verifyAuditLog } from '../../../domain/audit/verify-audit-log.js';
import { ManualClock } from '../../clock.js';
import { AuditSigner } from '../audit-signer.js';
import { type AuditRow, auditEntryFromRow, auditRowValues } from './audit-rows.js';
import { SqliteAuditStore } from './sqlite-audit-store.js';

/**
 * The tampering suite: a real audit database and real signed checkpoints; then someone with the
 * data directory changes the SQLite file directly, and verification must name what was done
 * and where.
 */

const root = mkdtempSync(join(tmpdir(), 'holdfast-audit-tamper-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Checkpoints as read-only files, standing in for the compliance-locked objects the server writes. */
class FileCheckpointSink implements CheckpointSink {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
  }
  async write(checkpoint: AuditCheckpoint): Promise<void> {
    writeFileSync(join(this.#dir, `${checkpoint.chain}-${String(checkpoint.seq).padStart(12, '0')}.json`), JSON.stringify(checkpoint), { mode: 0o444, flag: 'wx' });
  }
  async list(): Promise<AuditCheckpoint[]> {
    return readdirSync(this.#dir).map((name) => parseAuditCheckpoint(readFileSync(join(this.#dir, name), 'utf8')));
  }
}

/**
 * A vault's audit history: 100 entries, a checkpoint after entries 30, 60 and 90 (written by the
 * checkpointer as the server would), then 10 more entries not yet checkpointed.
 */
async function history() {
  const dir = join(root, `vault-${n++}`);
  const path = join(dir, 'metadata', 'audit.sqlite');
  const signer = await AuditSigner.openKeyFile(join(dir, 'keys', 'audit-signing.key'));
  const sink = new FileCheckpointSink(join(dir, 'system-bucket'));
  const clock = new ManualClock(Date.UTC(2038, 6, 1));
  const store = new SqliteAuditStore(path, 'node-a');
  const log = await AuditLog.open({ store, clock });
  const checkpointer = new AuditCheckpointer({ log, store, signer, sink, clock, intervalMs: 3_600_000 });
  await checkpointer.start();
  for (let i = 0; i < 100; i += 1) {
    clock.advance(1000);
    log.record(requestFields(i));
    if (i + 1 === 30 || i + 1 === 60 || i + 1 === 90) await checkpointer.checkpoint();
  }
  await log.close();
  await store.close();
  const verify = async (): Promise<AuditVerification> => {
    const reopened = new SqliteAuditStore(path, 'node-a');
    try {
      return await verifyAuditLog(reopened, await sink.list(), signer.publicKey);
    } finally {
      await reopened.close();
    }
  };
  /** Direct access to the file, as someone holding the data directory has. */
  const tamper = (change: (db: Database.Database) => void) => {
    const db = new Database(path);
    try {
      change(db);
    } finally {
      db.close();
    }
  };
  return { path, signer, sink, verify, tamper, clock };
}

const summary = (v: AuditVerification) => v.problems.map((p) => `${p.kind}@${p.seq}`);
const row = (db: Database.Database, seq: number) => auditEntryFromRow(db.prepare('SELECT * FROM audit_entries WHERE seq = ?').get(seq) as AuditRow);

test('untouched, the history verifies, checkpoints included', async () => {
  const { verify, sink } = await history();
  assert.equal((await sink.list()).length, 3);
  const v = await verify();
  assert.deepEqual(v.problems, []);
  assert.equal(v.ok, true);
  assert.equal(v.entriesChecked, 100);
  assert.equal(v.checkpointsChecked, 3);
});

test('UPDATE of a field: named as edited, at its position', async () => {
  const { verify, tamper } = await history();
  tamper((db) => db.prepare("UPDATE audit_entries SET result = 'allowed', status = 200, error_code = NULL WHERE seq = 46").run());
  const v = await verify();
  assert.deepEqual(summary(v), ['edited@46']);
  assert.match(v.problems[0]!.message, /entry 46 was changed/);
});

test('UPDATE of a field with its hash recomputed: still named as edited, at its position', async () => {
  const { verify, tamper } = await history();
  tamper((db) => {
    const rewritten = sealAuditEntry({ ...row(db, 71), identity: 'someone-else' });
    db.prepare('UPDATE audit_entries SET identity = ?, hash = ? WHERE seq = 71').run(rewritten.identity, rewritten.hash);
  });
  assert.deepEqual(summary(await verify()), ['edited@71']);
});

test('DELETE of a row: named as deleted, and the checkpoint over it as contradicted', async () => {
  const { verify, tamper } = await history();
  tamper((db) => db.prepare('DELETE FROM audit_entries WHERE seq IN (12, 60)').run());
  const v = await verify();
  assert.deepEqual(summary(v), ['deleted@12', 'deleted@60', 'checkpoint-mismatch@60']);
  assert.match(v.problems[0]!.message, /entry 12 is missing/);
});

test('two rows swapping their seq: both named as reordered', async () => {
  const { verify, tamper } = await history();
  tamper((db) => {
    db.prepare('UPDATE audit_entries SET seq = -1 WHERE seq = 20').run();
    db.prepare('UPDATE audit_entries SET seq = 20 WHERE seq = 23').run();
    db.prepare('UPDATE audit_entries SET seq = 23 WHERE seq = -1').run();
  });
  const v = await verify();
  assert.deepEqual(summary(v), ['reordered@20', 'reordered@23']);
  assert.match(v.problems[0]!.message, /position 20 holds the entry written as entry 23/);
});

test('DELETE of the tail: named as truncated, from the first missing position', async () => {
  const { verify, tamper } = await history();
  tamper((db) => db.prepare('DELETE FROM audit_entries WHERE seq > 75').run());
  const v = await verify();
  assert.deepEqual(summary(v), ['truncated@76']);
  assert.match(v.problems[0]!.message, /ends at entry 75.*covers entries up to 90/);
});

test('the whole chain rewritten consistently after an edit: the locked checkpoints still prove the earlier history', async () => {
  const { verify, tamper } = await history();
  tamper((db) => {
    // Make entry 40 say the delete was allowed, then recompute every later hash and link.
    const update = db.prepare('UPDATE audit_entries SET result = ?, identity = ?, prev_hash = ?, hash = ? WHERE seq = ?');
    let prevHash = row(db, 40).prevHash;
    for (let seq = 40; seq <= 100; seq += 1) {
      const current = row(db, seq);
      const rewritten = sealAuditEntry({ ...current, identity: seq === 40 ? 'nobody' : current.identity, prevHash });
      update.run(rewritten.result, rewritten.identity, rewritten.prevHash, rewritten.hash, seq);
      prevHash = rewritten.hash;
    }
  });
  const v = await verify();
  assert.deepEqual(summary(v), ['checkpoint-mismatch@60', 'checkpoint-mismatch@90']);
  assert.match(v.problems[0]!.message, /after entry 30 \(the last checkpoint that matches\) up to entry 60 was rewritten/);
});

test('tail truncated, then the server restarted and wrote on: the reused positions contradict the checkpoint', async () => {
  const { path, verify, tamper, clock } = await history();
  tamper((db) => db.prepare('DELETE FROM audit_entries WHERE seq > 50').run());
  const store = new SqliteAuditStore(path, 'node-a');
  const log = await AuditLog.open({ store, clock });
  for (let i = 0; i < 60; i += 1) log.record(requestFields(1000 + i));
  await log.close();
  await store.close();
  assert.deepEqual(summary(await verify()), ['checkpoint-mismatch@60', 'checkpoint-mismatch@90']);
});

test('a checkpoint forged with another key is reported and proves nothing', async () => {
  const { verify, tamper, sink } = await history();
  tamper((db) => db.prepare("UPDATE audit_entries SET action = 'GetObject' WHERE seq = 95").run());
  const forger = AuditSigner.fromPrivateKey(generateKeyPairSync('ed25519').privateKey);
  const forged = signCheckpoint(forger, { chain: 'node-a', seq: 100, hash: 'e'.repeat(64), timeMs: Date.UTC(2038, 6, 2) });
  await sink.write(forged);
  const v = await verify();
  assert.deepEqual(summary(v), ['edited@95', 'bad-checkpoint-signature@100']);
  assert.match(v.problems[1]!.message, /not by the audit key/);
});

test('rows inserted by hand with a valid-looking chain beyond the head are caught by nothing but later checkpoints: the documented window', async () => {
  const { verify, tamper } = await history();
  tamper((db) => {
    const head = row(db, 100);
    const extra = sealAuditEntry({ ...head, seq: 101, prevHash: head.hash, action: 'PutObject' });
    db.prepare(`INSERT INTO audit_entries VALUES (${Array.from({ length: 17 }, () => '?').join(', ')})`).run(auditRowValues(extra));
  });
  const v = await verify();
  assert.equal(v.ok, true);
  assert.equal(v.entriesChecked, 101);
});

// Durability under kill -9 (issue 2, "Durability and resource bounds"): writers PUT, overwrite
// and multipart-upload continuously while the server is SIGKILLed at random moments and
// restarted on the same data directory. After every restart each acknowledged write must read
// back byte-exact, and nothing readable or listed may be a partial, mixed or unknown object.
//
// Replay a failure with HOLDFAST_CRASH_SEED=<seed from the message>: the workload's choices and
// kill delays repeat (the exact interleaving of a crash cannot).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';
import { type Workload, verifyStore, writerLoop } from './crash-workload.js';
import { SeededRandom, seedFromEnv } from './seeded-content.js';
import { EMPTY_SHA256, SignedS3Client, describeResponse } from './signed-http-client.js';
import { WriteHistory } from './write-history.js';

const SEED_ENV = 'HOLDFAST_CRASH_SEED';
const BUCKET = 'crash-recovery';
const CYCLES = 8;
const WRITERS = 8;
/** Writes each cycle must have answered before its kill (the guard at the end counts them). */
const MIN_ACKNOWLEDGED_PER_CYCLE = 10;
const MAX_EXTRA_WAIT_MS = 5_000;

void test('every acknowledged write survives SIGKILL at random moments, and nothing partial appears', { timeout: 90_000 }, async (t) => {
  const started = performance.now();
  const seed = seedFromEnv(SEED_ENV);
  const replay = `seed ${seed} (replay: ${SEED_ENV}=${seed})`;
  const random = new SeededRandom(seed);
  const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-crash-'));
  const credentials = randomCredentials();
  const env = {
    HOLDFAST_ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  let vault: RunningVault | undefined;
  let client: SignedS3Client | undefined;
  t.after(async () => {
    client?.close();
    await vault?.kill9();
    await rm(dataDir, { recursive: true, force: true });
  });
  const start = async () => {
    client?.close();
    vault = await startVault({ dataDir, env });
    client = new SignedS3Client(vault.endpoint, credentials, { maxSockets: WRITERS * 2, idleTimeoutMs: 20_000 });
    return { vault, client };
  };

  let running = false;
  const history = new WriteHistory();
  let current = await start();
  const created = await current.client.send({ method: 'PUT', path: `/${BUCKET}`, payloadHash: EMPTY_SHA256 });
  assert.equal(created.status, 200, `CreateBucket: ${describeResponse(created)}`);

  const totals = { verifiedObjects: 0, verifiedBytes: 0 };
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const workload: Workload = { bucket: BUCKET, seed, history, client: current.client, running: () => running };
    running = true;
    const writers = Array.from({ length: WRITERS }, (_, writer) => writerLoop(workload, cycle, writer));
    const delayMs = random.int(200, 1500);
    const acknowledgedBefore = history.counts.acknowledged;
    await sleep(delayMs);
    // On a loaded machine a short window can end before many writes were answered; wait a little
    // longer for this cycle's share, so the vacuity guard below measures the kills, not the load.
    const waitUntil = performance.now() + MAX_EXTRA_WAIT_MS;
    while (history.counts.acknowledged - acknowledgedBefore < MIN_ACKNOWLEDGED_PER_CYCLE && performance.now() < waitUntil) await sleep(20);
    // Stop issuing writes and kill in the same tick: an error seen while `running` was still true
    // happened before the kill.
    running = false;
    await current.vault.kill9();
    await Promise.all(writers);
    history.crash();

    current = await start();
    const { failures, objects, bytes } = await verifyStore({ ...workload, client: current.client });
    totals.verifiedObjects += objects;
    totals.verifiedBytes += bytes;
    assert.deepEqual(
      failures,
      [],
      `after kill #${cycle + 1} (${delayMs} ms into the writes), ${replay}:\n  ${failures.slice(0, 20).join('\n  ')}` +
        `\n--- server output after restart ---\n${current.vault.output()}`,
    );
    assert.deepEqual(history.problems(), [], `valid writes failed while the server was up (cycle ${cycle + 1}), ${replay}`);
  }

  // Guard against a vacuous pass: the kills must have landed on writes, and many writes must have counted.
  const { acknowledged, unknown } = history.counts;
  assert.ok(unknown > 0, `no kill interrupted a write in flight, ${replay}`);
  assert.ok(acknowledged >= 10 * CYCLES, `only ${acknowledged} writes acknowledged, ${replay}`);
  const byKind = [...history.acknowledgedByKind].map(([kind, n]) => `${n} ${kind}`).join(', ');
  await current.vault.stop();
  vault = undefined;
  t.diagnostic(
    `${replay}: ${CYCLES} kills, ${acknowledged} acknowledged writes (${byKind}), ${unknown} interrupted by a kill; ` +
      `verified ${totals.verifiedObjects} objects / ` +
      `${(totals.verifiedBytes / 1024 / 1024).toFixed(0)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

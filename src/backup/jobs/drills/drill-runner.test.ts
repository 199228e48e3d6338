import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../../infra/clock.js';
import type { S3Client } from '../../../infra/s3-client/s3-client.js';
import { parseBackupJobs } from '../job-config.js';
import { SqliteJobRunHistory } from '../sqlite-job-run-history.js';
import { FileDrillJournal } from './drill-journal.js';
import type { JobDrillRecord } from './drill-record.js';
import { type DrilledJob, DrillRunner, type MissedDrills } from './drill-runner.js';
import { DrillOverTimeBudget, DrillShutdown, type JobDrillContext } from './job-drill.js';
import { waitUntil } from '../../../../test/support/wait-until.js';
import { JobRunRefused } from '../job-runner.js';

/**
 * The drill runner's scheduling against a ManualClock, with a stand-in for the drill itself (held
 * open until the test lets it finish) and the real journal and history on disk: a scheduled
 * drill starts on the tick at its cron time and not before, a job is never drilled twice at once
 * (the schedule that comes meanwhile is skipped, reported and counted), drills queue one at a
 * time with budgets counted from when each leaves the queue, the budget aborts the drill, and a
 * journal left by a crash becomes an interrupted record with its scratch directory removed.
 */
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-drill-runner-'));
});
after(() => rm(dir, { recursive: true, force: true }));

interface HeldDrill {
  readonly job: string;
  readonly context: JobDrillContext;
  finish(): void;
}

/** `name`: the same history and journal as an earlier harness (a restarted server). */
function harness(jobs: unknown[], clock: ManualClock, name = `h${Math.random().toString(16).slice(2)}`) {
  const parsed = parseBackupJobs(jobs, { alertChannels: ['log'], env: {}, nowMs: clock.nowMs() });
  const history = new SqliteJobRunHistory(join(dir, `${name}.sqlite`));
  const journal = new FileDrillJournal(join(dir, name, 'drills-in-progress'));
  const held: HeldDrill[] = [];
  const finished: JobDrillRecord[] = [];
  const skipped: string[] = [];
  const missed: [string, MissedDrills][] = [];
  const runner = new DrillRunner({
    jobs: parsed,
    history,
    clock,
    client: () => ({}) as S3Client,
    env: {},
    endpoint: () => 'http://127.0.0.1:1',
    restoreCommand: () => 'false',
    journal,
    // As the server does: the record is kept in the history (catchUpMissed reads it).
    finished: (job: DrilledJob, record) => {
      finished.push(record);
      history.putEvidence({ kind: 'drills', id: record.id, job: job.name, outcome: record.outcome, recordedMs: clock.nowMs(), record: JSON.stringify(record) });
    },
    skipped: (job, reason) => skipped.push(`${job.name}: ${reason}`),
    missed: (job, found) => missed.push([job.name, found]),
    drill: (job, _run, context) =>
      new Promise<JobDrillRecord>((resolve) => {
        const record = { id: context.id, job: job.name, trigger: context.trigger, startedAt: new Date(context.startedMs).toISOString(), outcome: context.signal.aborted ? 'failed' : 'passed' } as unknown as JobDrillRecord;
        held.push({ job: job.name, context, finish: () => resolve({ ...record, outcome: context.signal.aborted ? 'failed' : 'passed' }) });
      }),
  });
  return { name, runner, history, journal, held, finished, skipped, missed, close: () => history.close() };
}

const hourly = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source: { kind: 'directory', path: '/srv/files' },
  schedule: '0 3 * * *',
  destination: { bucket: 'backups' },
  drill: { schedule: '0 * * * *', timeBudgetMinutes: 120, ...extra },
});
/** The stand-in is called once the drill has left the queue and is journaled (asynchronously). */
const drillsStarted = (h: { held: HeldDrill[] }, count: number) => waitUntil(`${count} drill(s) to start`, () => h.held.length === count, 10_000, 5);

test('a scheduled drill starts on the tick at its cron time (in its zone), not before', async () => {
  // Saturday 2026-06-06 00:00 UTC; the drill is Sundays 05:00 Berlin (CEST: 03:00 UTC).
  const clock = new ManualClock(Date.parse('2026-06-06T00:00:00Z'));
  const h = harness([{ ...hourly('weekly'), drill: { schedule: '0 5 * * SUN', timeZone: 'Europe/Berlin' } }], clock);
  assert.equal(new Date(h.runner.statuses()[0]!.nextDrillMs!).toISOString(), '2026-06-07T03:00:00.000Z');
  clock.set(Date.parse('2026-06-07T02:59:59Z'));
  h.runner.tick();
  assert.equal(h.runner.statuses()[0]!.running, undefined, 'nothing is due a second early');
  clock.set(Date.parse('2026-06-07T03:00:00Z'));
  h.runner.tick();
  await drillsStarted(h, 1);
  assert.deepEqual(h.held.map((d) => [d.job, d.context.trigger]), [['weekly', 'schedule']]);
  assert.equal(h.held[0]!.context.startedMs, Date.parse('2026-06-07T03:00:00Z'));
  const status = h.runner.statuses()[0]!;
  assert.equal(status.running?.id, h.held[0]!.context.id);
  assert.equal(new Date(status.nextDrillMs!).toISOString(), '2026-06-14T03:00:00.000Z');
  // The drill is journaled while it runs, and leaves the journal once its record is kept.
  assert.deepEqual((await h.journal.leftovers()).map((d) => d.id), [h.held[0]!.context.id]);
  h.held[0]!.finish();
  await h.runner.idle();
  assert.deepEqual(h.finished.map((r) => r.outcome), ['passed']);
  assert.deepEqual(await h.journal.leftovers(), []);
  assert.equal(h.runner.statuses()[0]!.running, undefined);
  h.close();
});

test('a job is never drilled twice at once: the schedule that comes meanwhile is skipped, reported and counted; a manual start is refused', async () => {
  const clock = new ManualClock(Date.parse('2026-06-01T00:30:00Z'));
  const h = harness([hourly('files')], clock);
  clock.set(Date.parse('2026-06-01T01:00:00Z'));
  h.runner.tick();
  await drillsStarted(h, 1);
  assert.throws(() => h.runner.start('files', 'manual'), (e: Error) => e instanceof JobRunRefused && e.reason === 'already-running' && e.message.includes(h.held[0]!.context.id));

  clock.set(Date.parse('2026-06-01T02:00:00Z'));
  h.runner.tick();
  assert.equal(h.runner.statuses()[0]!.running?.id, h.held[0]!.context.id, 'no second drill of the same job');
  const status = h.runner.statuses()[0]!;
  assert.equal(status.skippedCount, 1);
  assert.equal(new Date(status.lastSkipped!.dueMs).toISOString(), '2026-06-01T02:00:00.000Z');
  assert.match(status.lastSkipped!.reason, /already in progress/);
  assert.equal(h.skipped.length, 1);
  assert.match(h.skipped[0]!, /^files: A drill of job "files" is already in progress/);

  h.held[0]!.finish();
  await h.runner.idle();
  clock.set(Date.parse('2026-06-01T03:00:00Z'));
  h.runner.tick();
  await drillsStarted(h, 2);
  assert.equal(h.held.length, 2, 'the next schedule after the drill ended starts again');
  h.held[1]!.finish();
  await h.runner.idle();
  assert.equal(h.runner.statuses()[0]!.skippedCount, 1);
  h.close();
});

test('drills run one at a time; the budget counts from when a drill leaves the queue, and aborts it once exceeded', async () => {
  const clock = new ManualClock(Date.parse('2026-06-01T00:30:00Z'));
  const h = harness([hourly('first', { timeBudgetMinutes: 10 }), hourly('second', { timeBudgetMinutes: 10 })], clock);
  clock.set(Date.parse('2026-06-01T01:00:00Z'));
  h.runner.tick();
  await drillsStarted(h, 1);
  assert.deepEqual(h.held.map((d) => d.job), ['first'], 'the second waits in the queue');
  assert.equal(h.runner.statuses().filter((s) => s.running !== undefined).length, 2, 'both are in progress (one queued)');

  clock.advance(10 * 60_000);
  h.runner.tick();
  assert.equal(h.held[0]!.context.signal.aborted, false, 'exactly at the budget is within it');
  clock.advance(1);
  h.runner.tick();
  assert.equal(h.held[0]!.context.signal.aborted, true);
  assert.ok(h.held[0]!.context.signal.reason instanceof DrillOverTimeBudget);
  assert.match((h.held[0]!.context.signal.reason as Error).message, /still running after its time budget of 10 min \(drill\.timeBudgetMinutes\)/);

  h.held[0]!.finish();
  await drillsStarted(h, 2);
  assert.deepEqual(h.held.map((d) => d.job), ['first', 'second']);
  // The second left the queue 10 min after it was asked for: its budget starts now.
  assert.equal(h.held[1]!.context.startedMs, clock.nowMs());
  clock.advance(5 * 60_000);
  h.runner.tick();
  assert.equal(h.held[1]!.context.signal.aborted, false);
  h.held[1]!.finish();
  await h.runner.idle();
  assert.deepEqual(h.finished.map((r) => [r.job, r.outcome]), [
    ['first', 'failed'],
    ['second', 'passed'],
  ]);
  h.close();
});

test('close() stops the drill in progress (recorded by the drill as a shutdown) and starts no more', async () => {
  const clock = new ManualClock(Date.parse('2026-06-01T00:30:00Z'));
  const h = harness([hourly('files')], clock);
  h.runner.start('files', 'manual');
  await drillsStarted(h, 1);
  const closing = h.runner.close();
  assert.ok(h.held[0]!.context.signal.reason instanceof DrillShutdown);
  h.held[0]!.finish();
  await closing;
  assert.deepEqual(await h.journal.leftovers(), []);
  assert.throws(() => h.runner.start('files', 'manual'), /closed/);
  clock.set(Date.parse('2026-06-01T01:00:00Z'));
  h.runner.tick();
  assert.equal(h.held.length, 1, 'no scheduled drill after close');
  h.close();
});

test('a drill a crash left in the journal becomes an interrupted record, and its scratch directory is removed', async () => {
  const clock = new ManualClock(Date.parse('2026-06-01T06:00:00Z'));
  const h = harness([hourly('files')], clock);
  const scratch = join(dir, 'holdfast-drill-20260601T050000Z-abcdef');
  await mkdir(join(scratch, 'tree'), { recursive: true });
  await writeFile(join(scratch, 'tree', 'half-extracted'), 'x');
  await h.journal.begin({ id: '20260601T050000Z-abcdef', job: 'files', trigger: 'schedule', startedMs: Date.parse('2026-06-01T05:00:00Z') });
  await h.journal.addTarget('20260601T050000Z-abcdef', { kind: 'directory', path: scratch });
  // A drill of a job removed from the config since: recorded all the same.
  await h.journal.begin({ id: '20260601T050100Z-fedcba', job: 'gone', trigger: 'manual', startedMs: Date.parse('2026-06-01T05:01:00Z') });

  const records = await h.runner.recoverInterrupted();
  assert.deepEqual(records.map((r) => [r.id, r.job, r.outcome, r.trigger]), [
    ['20260601T050000Z-abcdef', 'files', 'interrupted', 'schedule'],
    ['20260601T050100Z-fedcba', 'gone', 'interrupted', 'manual'],
  ]);
  assert.deepEqual(h.finished.map((r) => r.id), records.map((r) => r.id), 'each went through finished (evidence, metrics, alert)');
  const [files, gone] = records;
  assert.match(files!.reason!, /^interrupted: the server stopped while the drill was in progress/);
  assert.equal(files!.startedAt, '2026-06-01T05:00:00.000Z');
  assert.equal(files!.finishedAt, '2026-06-01T06:00:00.000Z');
  assert.equal(files!.rtoSeconds, null);
  assert.deepEqual(files!.checks.map((c) => c.outcome), ['failed']);
  assert.equal(files!.target, `torn down at start-up: removed temporary directory ${scratch}`);
  await assert.rejects(stat(scratch), { code: 'ENOENT' });
  assert.match(gone!.target, /had not created its scratch target/);
  assert.deepEqual(await h.journal.leftovers(), []);
  assert.deepEqual((await readdir(join(dir))).filter((n) => n.startsWith('holdfast-drill-')), []);
  h.close();
});

test('drills missed while the server was down: found at start-up, each missed time counted, one catch-up drill now; an interrupted drill owes its time still', async () => {
  const weekly = [{ ...hourly('weekly'), drill: { schedule: '0 5 * * SUN', timeZone: 'Europe/Berlin' } }];
  // First start, Monday: the schedule is watched from now on; nothing is missed.
  const clock = new ManualClock(Date.parse('2026-06-01T09:00:00Z'));
  const first = harness(weekly, clock);
  assert.deepEqual([...first.runner.catchUpMissed()], []);
  first.close();

  // Down from Saturday to the next Tuesday: Sunday 05:00 Berlin (03:00 UTC) passed unwatched.
  clock.set(Date.parse('2026-06-09T08:00:00Z'));
  const second = harness(weekly, clock, first.name);
  const found = second.runner.catchUpMissed().get('weekly')!;
  assert.deepEqual({ ...found, catchUpId: typeof found.catchUpId }, { firstDueMs: Date.parse('2026-06-07T03:00:00Z'), lastDueMs: Date.parse('2026-06-07T03:00:00Z'), count: 1, sinceMs: Date.parse('2026-06-01T09:00:00Z'), catchUpId: 'string' });
  assert.deepEqual(second.missed.map(([job, m]) => [job, m.count]), [['weekly', 1]]);
  assert.deepEqual(second.runner.statuses()[0]!.lastMissed, found);
  await drillsStarted(second, 1);
  assert.deepEqual([second.held[0]!.context.id, second.held[0]!.context.trigger], [found.catchUpId, 'schedule']);
  second.held[0]!.finish();
  await second.runner.idle();
  second.close();

  // Restarted an hour later: the catch-up drill is the newest; nothing is owed.
  clock.advance(3600_000);
  const third = harness(weekly, clock, first.name);
  assert.deepEqual([...third.runner.catchUpMissed()], []);
  // A scheduled drill cut off by a crash (recorded interrupted at the next start) proved nothing.
  clock.set(Date.parse('2026-06-14T03:00:00Z'));
  third.runner.tick();
  await drillsStarted(third, 1);
  third.close();
  clock.set(Date.parse('2026-06-14T09:00:00Z'));
  const fourth = harness(weekly, clock, first.name);
  assert.deepEqual((await fourth.runner.recoverInterrupted()).map((r) => r.outcome), ['interrupted']);
  assert.deepEqual([...fourth.runner.catchUpMissed()].map(([job, m]) => [job, m.count, new Date(m.firstDueMs).toISOString()]), [['weekly', 1, '2026-06-14T03:00:00.000Z']]);
  await drillsStarted(fourth, 1);
  fourth.held[0]!.finish();
  await fourth.runner.idle();
  fourth.close();

  // Down three weeks: three missed Sundays, one catch-up drill.
  clock.set(Date.parse('2026-07-06T12:00:00Z'));
  const fifth = harness(weekly, clock, first.name);
  const long = fifth.runner.catchUpMissed().get('weekly')!;
  assert.deepEqual([long.count, new Date(long.firstDueMs).toISOString(), new Date(long.lastDueMs).toISOString()], [3, '2026-06-21T03:00:00.000Z', '2026-07-05T03:00:00.000Z']);
  await drillsStarted(fifth, 1);
  assert.equal(fifth.held.length, 1);
  fifth.held[0]!.finish();
  await fifth.runner.idle();
  fifth.close();
});


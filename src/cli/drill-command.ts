import type { JobDrillRecord } from '../backup/jobs/drills/drill-record.js';
import { runAdminApiCommand } from './admin-api-command.js';
import { UsageError } from './admin-subcommands.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND } from './exit-codes.js';
import { ProgressLine } from './progress-line.js';

const USAGE = `Usage: holdfast drill run JOB [--json] [connection options]

  run JOB    restores the newest successful run of JOB into an isolated scratch target inside the
             server, checks it, measures RTO and RPO, tears the target down and records the
             evidence (\`holdfast evidence show drills ID\`). Waits for the outcome:
               mariadb-dump     a scratch database holdfast_drill_<id> on the job's server, row
                                counts against those recorded at backup time, the drill.probes
               pg-dump          a scratch database holdfast_drill_<id> on the job's server, pg_restore,
                                row counts against those the archive held, the drill.probes
               mongodump        mongorestore into holdfast_drill_<id> on the job's deployment (needs
                                mongorestore and mongosh on the server's host)
               directory        a temporary directory, every file's SHA-256 against the run's list
               pg-base-backup   a throwaway cluster on a free port, PITR to the newest archived WAL,
                                promoted, pg_amcheck, the drill.probes

While it runs, the drill's current step is shown on stderr (a line rewritten in place on a
terminal, a line per step otherwise); --json prints only the final record.

Scheduled drills and probes are configured in the job's "drill" block (see README).
Needs the admin role. Connection options as for \`holdfast admin\`.
Exit codes: 0 the drill passed, 4 it failed (the reason is printed and recorded), 1 failure,
2 usage, 3 refused by the server.
`;

const POLL_MS = 1000;

interface DrillView {
  id: string;
  job: string;
  status: string;
  /** While it runs: what the drill is doing now. */
  step?: string;
  /** Every step so far (of a drill in progress or recently finished). */
  steps?: string[];
  record?: JobDrillRecord;
}

export function runDrillCommand(args: string[]): Promise<number> {
  return runAdminApiCommand('drill', USAGE, args, {}, async ({ action, args: rest, json, client: connectClient }) => {
    if (action !== 'run') throw new UsageError(action === undefined ? 'Name an action: run JOB.' : `Unknown drill action "${action}".`);
    if (rest.length !== 1) throw new UsageError('Usage: holdfast drill run JOB');
    const name = rest[0]!;
    const client = connectClient();
    const started = (await client.call('POST', `jobs/${encodeURIComponent(name)}/drills`)) as { drill: DrillView };
    if (!json) process.stderr.write(`holdfast drill: drill ${started.drill.id} of ${name} started\n`);
    const progress = new ProgressLine(`drill ${started.drill.id}`, { write: (t) => process.stderr.write(t), interactive: process.stderr.isTTY === true });
    let drill: DrillView;
    let shown = 0;
    for (;;) {
      drill = ((await client.call('GET', `drills/${encodeURIComponent(started.drill.id)}`)) as { drill: DrillView }).drill;
      // --json: only the final record, on stdout; nothing on stderr while it runs.
      if (!json) {
        // Every step since the last poll (a log shows each), then the current one again (a terminal's clock ticks on).
        const steps = drill.steps ?? [];
        for (const step of steps.slice(shown)) progress.step(step);
        shown = Math.max(shown, steps.length);
        if (drill.status === 'running') progress.step(drill.step ?? steps.at(-1) ?? 'running in the server');
      }
      if (drill.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    progress.done();
    const record = drill.record!;
    process.stdout.write(json ? `${JSON.stringify(record, null, 2)}\n` : `${describeDrill(record)}\n`);
    return record.outcome === 'passed' ? EXIT_OK : EXIT_PROBLEMS_FOUND;
  });
}

export function describeDrill(record: JobDrillRecord): string {
  const lines = [
    `restore drill ${record.id} of ${record.job} (${record.source}): ${record.outcome.toUpperCase()}${record.reason === undefined ? '' : ` — ${record.reason}`}`,
    `  restored: ${record.backup === null ? 'nothing' : `run ${record.backup.runId ?? '-'}${record.backup.pgBackupId === undefined ? '' : `, backup ${record.backup.pgBackupId}`} from s3://${record.backup.bucket}`}`,
    `  into: ${record.target}`,
    `  RTO ${record.rtoSeconds === null ? '-' : `${record.rtoSeconds} s`}, RPO ${record.rpoSeconds === null ? '-' : `${record.rpoSeconds} s`} (newest restorable moment ${record.newestRestorableAt ?? '-'})`,
    ...record.checks.map((c) => `  ${c.outcome === 'passed' ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
  ];
  return lines.join('\n');
}

import { runAdminApiCommand } from './admin-api-command.js';
import { UsageError } from './admin-subcommands.js';
import { EXIT_OK } from './exit-codes.js';

const USAGE = `Usage: holdfast evidence ACTION [--json] [connection options]

  list [--kind KIND] [--limit N]   the newest evidence records (default: all kinds below)
  show KIND ID                     one record, as stored

Records are written once and compliance-locked in the server's holdfast-system-evidence bucket:
kinds job-runs (every backup job run), drills (every restore drill), config-baselines (every
approved configuration baseline) and config-review-sign-offs. Needs a read role
(auditor, admin). Connection options as for \`holdfast admin\`.
Exit codes: 0 done, 1 failure, 2 usage, 3 refused by the server (3 also when there is no such record).
`;

const DEFAULT_KINDS = ['job-runs', 'drills', 'config-baselines', 'config-review-sign-offs'];

interface StoredView {
  kind: string;
  id: string;
  location: string;
  sha256: string;
  storedAtMs: number;
  retainUntilMs: number;
}

export function runEvidenceCommand(args: string[]): Promise<number> {
  return runAdminApiCommand('evidence', USAGE, args, { kind: { type: 'string' }, limit: { type: 'string' } }, async ({ action, args: rest, flags, json, client }) => {
    switch (action) {
      case 'list': {
        if (rest.length > 0) throw new UsageError('list takes no arguments; choose the kind with --kind.');
        const limit = typeof flags['limit'] === 'string' ? flags['limit'] : '20';
        const kindFlag = typeof flags['kind'] === 'string' ? flags['kind'] : undefined;
        if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) throw new UsageError(`--limit takes a whole number from 1 to 9999, not "${limit}".`);
        if (kindFlag !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(kindFlag)) throw new UsageError(`--kind "${kindFlag}" is not an evidence kind (e.g. job-runs, drills).`);
        const admin = client();
        const records: StoredView[] = [];
        for (const kind of kindFlag === undefined ? DEFAULT_KINDS : [kindFlag]) {
          records.push(...((await admin.call('GET', `evidence/${kind}`, undefined, { limit })) as { records: StoredView[] }).records);
        }
        records.sort((a, b) => b.storedAtMs - a.storedAtMs);
        const newest = records.slice(0, Number(limit));
        process.stdout.write(
          json
            ? `${JSON.stringify({ records: newest }, null, 2)}\n`
            : newest.length === 0
              ? 'No evidence records yet.\n'
              : `${newest.map((r) => [r.kind, r.id, new Date(r.storedAtMs).toISOString(), `locked until ${new Date(r.retainUntilMs).toISOString()}`, `sha256 ${r.sha256}`].join('\t')).join('\n')}\n`,
        );
        return EXIT_OK;
      }
      case 'show': {
        if (rest.length !== 2) throw new UsageError('Usage: holdfast evidence show KIND ID (e.g. show drills 20260601T030000Z-3f9a1c).');
        const [kind, id] = rest as [string, string];
        const record = await client().call('GET', `evidence/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`);
        // The record is the evidence: shown whole, as JSON, with or without --json.
        process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(action === undefined ? 'Name an action: list or show.' : `Unknown evidence action "${action}".`);
    }
  });
}

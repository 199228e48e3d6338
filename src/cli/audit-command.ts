import { writeFileSync } from 'node:fs';
import { runAdminApiCommand } from './admin-api-command.js';
import { UsageError } from './admin-subcommands.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND } from './exit-codes.js';

const USAGE = `Usage:
  holdfast audit verify [--json]
      Re-computes the hash chain of the running server's audit log and checks it against the
      signed checkpoints in the compliance-locked system bucket. Exit 4 when it finds problems.
  holdfast audit export [--from ISO-TIME] [--to ISO-TIME] [--identity NAME] [--action PREFIX]
                        [--result allowed|denied|error|ok] [--bucket NAME] [--out FILE]
      Entries as JSON lines, for auditors and log shipping.
  holdfast audit checkpoints [--json]

Connection options as for \`holdfast admin\` (--endpoint, --credentials, --profile, --ca-bundle).
The key needs holdfast:VerifyAuditLog / holdfast:ReadAuditLog (roles auditor or admin).
Exit codes: 0 ok, 1 failure, 2 usage, 3 refused by the server, 4 verification found problems.
`;

interface Verification {
  ok: boolean;
  entriesChecked: number;
  problems: Array<{ kind: string; seq: number; message: string }>;
}

const AUDIT_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  identity: { type: 'string' },
  action: { type: 'string' },
  result: { type: 'string' },
  bucket: { type: 'string' },
  out: { type: 'string' },
} as const;

export function runAuditCommand(args: string[]): Promise<number> {
  return runAdminApiCommand('audit', USAGE, args, AUDIT_OPTIONS, async ({ action, args: rest, flags, json, client: connectClient }) => {
    if (rest.length > 0) throw new UsageError(`Unexpected argument ${rest.join(' ')}.`);
    const client = connectClient();
    switch (action) {
      case 'verify': {
        const result = (await client.call('GET', 'audit/verify')) as Verification;
        if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          for (const problem of result.problems) process.stdout.write(`${problem.kind} at entry ${problem.seq}: ${problem.message}\n`);
          process.stdout.write(result.ok ? `audit log intact: ${result.entriesChecked} entries verified\n` : `audit log FAILED verification: ${result.problems.length} problem(s) in ${result.entriesChecked} entries\n`);
        }
        return result.ok ? EXIT_OK : EXIT_PROBLEMS_FOUND;
      }
      case 'export': {
        const filter: Record<string, string> = {};
        for (const name of ['from', 'to', 'identity', 'action', 'result', 'bucket'] as const) {
          const value = flags[name];
          if (typeof value !== 'string') continue;
          if ((name === 'from' || name === 'to') && Number.isNaN(Date.parse(value))) throw new UsageError(`--${name} takes an ISO 8601 time, not "${value}".`);
          filter[name] = value;
        }
        const text = await client.callText('GET', 'audit/entries', filter);
        const out = flags['out'];
        if (typeof out !== 'string') process.stdout.write(text);
        else {
          writeFileSync(out, text, { mode: 0o600 });
          const count = text === '' ? 0 : text.trimEnd().split('\n').length;
          process.stderr.write(`wrote ${count} entries to ${out}\n`);
        }
        return EXIT_OK;
      }
      case 'checkpoints': {
        const result = await client.call('GET', 'audit/checkpoints');
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(action === undefined ? 'Name an action: verify, export or checkpoints.' : `Unknown audit action "${action}".`);
    }
  });
}

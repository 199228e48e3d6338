import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CONNECTION_OPTIONS, connect, reportFailure } from './admin-command.js';
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

export async function runAuditCommand(args: string[]): Promise<number> {
  let json = false;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...CONNECTION_OPTIONS,
        from: { type: 'string' },
        to: { type: 'string' },
        identity: { type: 'string' },
        action: { type: 'string' },
        result: { type: 'string' },
        bucket: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return EXIT_OK;
    }
    json = values.json === true;
    const [action, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`Unexpected argument ${rest.join(' ')}.`);
    const client = connect(values);
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
          const value = values[name];
          if (value === undefined) continue;
          if ((name === 'from' || name === 'to') && Number.isNaN(Date.parse(value))) throw new UsageError(`--${name} takes an ISO 8601 time, not "${value}".`);
          filter[name] = value;
        }
        const text = await client.callText('GET', 'audit/entries', filter);
        if (values.out === undefined) process.stdout.write(text);
        else {
          writeFileSync(values.out, text, { mode: 0o600 });
          const count = text === '' ? 0 : text.trimEnd().split('\n').length;
          process.stderr.write(`wrote ${count} entries to ${values.out}\n`);
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
  } catch (error) {
    return reportFailure('audit', error, json, USAGE);
  }
}

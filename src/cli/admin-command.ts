import { DEFAULT_HOST, DEFAULT_PORT } from '../config/server-config.js';
import { runAdminApiCommand } from './admin-api-command.js';
import { SUBCOMMANDS, UsageError } from './admin-subcommands.js';
import { EXIT_OK } from './exit-codes.js';

const USAGE = `Usage: holdfast admin AREA ACTION [ARGS] [--json] [connection options]

  buckets list | show BUCKET | protect BUCKET | unprotect BUCKET
          set-retention-bounds BUCKET [--min-days N] [--max-days N] [--clear]
  users   list | show USER | delete USER | disable USER | enable USER
          create USER [--service] [--role ROLE]... [--duty-override-reason TEXT]
          attach-role USER ROLE | detach-role USER ROLE
          put-policy USER NAME FILE.json | delete-policy USER NAME
          set-duty-override USER --reason TEXT | clear-duty-override USER
  policies list USER | put USER NAME FILE.json | delete USER NAME
          simulate USER ACTION RESOURCE [--context KEY=VALUE]...   (exit 0 allowed, 3 denied)
  keys    list [--user USER] | create USER [--expires ISO-TIME] [--description TEXT]
          disable KEY | enable KEY | expire KEY (--at ISO-TIME | --never)
          rotate KEY [--grace-hours N] | delete KEY
  roles   list
  approvals list | approve CHANGE-ID | cancel CHANGE-ID
  alerts  status | test
  scrub   run [--fraction F] | status     (run waits; exit 0 clean, 4 damaged versions found)

Built-in roles: backup-writer, restore-reader, pruner, auditor, admin (\`holdfast admin roles list\`).
Loosening a bucket's protection answers ApprovalRequired with a change id; a second admin runs
\`holdfast admin approvals approve CHANGE-ID\`.

Connection: --endpoint URL (or HOLDFAST_ENDPOINT; default http://${DEFAULT_HOST}:${DEFAULT_PORT}),
credentials from --credentials FILE [--profile NAME] (AWS shared-credentials format, e.g. the
server's DATA/root-credentials) or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; --ca-bundle FILE
to trust a self-signed HTTPS certificate (or AWS_CA_BUNDLE).
Exit codes: 0 done, 1 failure (server unreachable or broken), 2 usage, 3 refused by the server,
4 a check found problems (scrub run: damaged versions).
`;

const ADMIN_OPTIONS = {
  'min-days': { type: 'string' },
  'max-days': { type: 'string' },
  clear: { type: 'boolean' },
  service: { type: 'boolean' },
  role: { type: 'string', multiple: true },
  'duty-override-reason': { type: 'string' },
  reason: { type: 'string' },
  user: { type: 'string' },
  expires: { type: 'string' },
  description: { type: 'string' },
  at: { type: 'string' },
  never: { type: 'boolean' },
  'grace-hours': { type: 'string' },
  context: { type: 'string', multiple: true },
  fraction: { type: 'string' },
} as const;

/** `holdfast admin AREA ACTION …`: talks to a running server over the signed admin API. */
export function runAdminCommand(args: string[]): Promise<number> {
  return runAdminApiCommand('admin', USAGE, args, ADMIN_OPTIONS, async ({ action: area, args: [action, ...rest], flags, client, print }) => {
    const subcommand = SUBCOMMANDS[`${area ?? ''} ${action ?? ''}`];
    if (subcommand === undefined) throw new UsageError(area === undefined ? 'Name an area and an action.' : `Unknown admin command "${[area, action].filter(Boolean).join(' ')}".`);
    const output = await subcommand({ client: client(), args: rest, flags });
    print(output.result, output.text);
    return output.exitCode ?? EXIT_OK;
  });
}

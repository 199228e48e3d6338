import { runAdminApiCommand } from './admin-api-command.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND } from './exit-codes.js';
import { attributeChangeLines, COLLECTION_HELP, COLLECTION_OPTIONS, collectionFromFlags, CONNECTION_HELP, expectArgs, limitQuery, UsageError } from './config-guard-cli.js';

const USAGE = `Usage: holdfast drift ACTION [ARGS] [--json] [connection options]

  check --items FILE    compares the items of FILE (\`holdfast config collect --out FILE\`) with the
                        approved baseline: added, removed and changed items with the changed
                        attributes' JSON paths, when each was first seen, and whether an approved
                        change request covers it. Unexplained drift alerts; exit 4 when there is any.
  history [--limit N]   earlier checks, newest first: the drift timeline

${COLLECTION_HELP}

${CONNECTION_HELP}
`;

interface DriftItemView {
  component: string;
  resourceId: string;
  difference: string;
  changes: { path: string; before?: unknown; after?: unknown }[];
  firstSeenAt: string;
  status: 'approved' | 'unexplained';
  coveredBy: string | null;
}

interface DriftCheckView {
  id: string;
  checkedAt: string;
  checkedBy: string;
  baselineId: string;
  summary: { added: number; removed: number; changed: number; explained: number; unexplained: number };
  items?: DriftItemView[];
}

export function runDriftCommand(args: string[]): Promise<number> {
  return runAdminApiCommand('drift', USAGE, args, { ...COLLECTION_OPTIONS, limit: { type: 'string' } }, async ({ action, args: rest, flags, client, print }) => {
    switch (action) {
      case 'check': {
        expectArgs('drift', rest, 0, 'check (--items FILE | --sources FILE | --terraform FILE ...)');
        const collection = await collectionFromFlags('drift', flags);
        const check = (await client().call('POST', 'config/drift-checks', collection)) as DriftCheckView;
        print(check, [summary(check), ...(check.items ?? []).map(describeItem)].join('\n'));
        return check.summary.unexplained > 0 ? EXIT_PROBLEMS_FOUND : EXIT_OK;
      }
      case 'history': {
        expectArgs('drift', rest, 0, 'history [--limit N]');
        const result = (await client().call('GET', 'config/drift-checks', undefined, limitQuery(flags, '20'))) as { checks: DriftCheckView[] };
        print(result, result.checks.length === 0 ? 'No drift checks yet.' : result.checks.map(summary).join('\n'));
        return EXIT_OK;
      }
      default:
        throw new UsageError(action === undefined ? 'Name an action: check or history.' : `Unknown drift action "${action}".`);
    }
  });
}

function summary(c: DriftCheckView): string {
  const s = c.summary;
  const verdict = s.unexplained > 0 ? `UNEXPLAINED DRIFT: ${s.unexplained}` : s.explained > 0 ? 'drift covered by approved changes' : 'no drift';
  return `${c.checkedAt}\t${c.id}\tbaseline ${c.baselineId}\t${verdict}\t(${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.explained} approved)\tby ${c.checkedBy}`;
}

function describeItem(item: DriftItemView): string {
  const head = `  ${item.status === 'approved' ? `approved by ${item.coveredBy ?? ''}` : 'UNEXPLAINED'}\t${item.difference} ${item.component} ${item.resourceId}\tfirst seen ${item.firstSeenAt}`;
  return [head, ...attributeChangeLines(item.changes, '      ')].join('\n');
}

import { runAdminApiCommand } from './admin-api-command.js';
import { EXIT_OK } from './exit-codes.js';
import { attributeChangeLines, CONNECTION_HELP, expectArgs, limitQuery, readJsonFile, requireFlag, UsageError } from './config-guard-cli.js';

const USAGE = `Usage: holdfast changes ACTION [ARGS] [--json] [connection options]

  propose --title TEXT --risk low|medium|high --expect FILE [--description TEXT]
                 records a change request; FILE names the state each resource will be in:
                 {"changes": [{"component": "dns", "resourceId": "example.com./www/A",
                   "target": {"kind": "dns_record", "attributes": {...}}}]}  (target null = removed)
  review ID --approve|--reject --comment TEXT
                 peer review by someone other than the proposer
  apply ID       after approval: the new approved baseline is the current one with the change made
                 (stored as locked evidence); drift the request explains is recorded as approved
  list [--limit N] | show ID

Drift that matches an approved request's target state shows as approved in \`holdfast drift check\`.
${CONNECTION_HELP}
`;

interface ChangeView {
  id: string;
  title: string;
  risk: string;
  status: string;
  proposedBy: string;
  proposedAt: string;
  description: string;
  expected: { component: string; resourceId: string; target: unknown }[];
  baselineId: string | null;
  diff: { component: string; resourceId: string; difference: string; changes: { path: string; before?: unknown; after?: unknown }[] }[] | null;
  reviews: { by: string; at: string; decision: string; comment: string | null }[];
  applied: { by: string; at: string; baselineId: string; explainedDrift: string[] } | null;
}

export function runChangesCommand(args: string[]): Promise<number> {
  const options = {
    title: { type: 'string' },
    risk: { type: 'string' },
    expect: { type: 'string' },
    description: { type: 'string' },
    approve: { type: 'boolean' },
    reject: { type: 'boolean' },
    comment: { type: 'string' },
    limit: { type: 'string' },
  } as const;
  return runAdminApiCommand('changes', USAGE, args, options, async ({ action, args: rest, flags, client, print }) => {
    switch (action) {
      case 'propose': {
        expectArgs('changes', rest, 0, 'propose --title TEXT --risk low|medium|high --expect FILE');
        const risk = requireFlag(flags, 'risk', 'low, medium or high');
        if (!['low', 'medium', 'high'].includes(risk)) throw new UsageError(`--risk is low, medium or high, not "${risk}".`);
        const body = {
          title: requireFlag(flags, 'title', 'a one-line summary of the change'),
          risk,
          expected: readJsonFile(requireFlag(flags, 'expect', 'a JSON file of the target state of each resource the change touches'), 'the expected changes file'),
          ...(typeof flags['description'] === 'string' ? { description: flags['description'] } : {}),
        };
        const change = (await client().call('POST', 'config/changes', body)) as ChangeView;
        print(change, [`proposed change ${change.id} (${change.risk} risk, ${change.expected.length} resource(s)); another admin reviews it with \`holdfast changes review ${change.id} --approve --comment TEXT\``, ...diffLines(change)].join('\n'));
        return EXIT_OK;
      }
      case 'review': {
        const [id] = expectArgs('changes', rest, 1, 'review ID --approve|--reject --comment TEXT');
        if ((flags['approve'] === true) === (flags['reject'] === true)) throw new UsageError('review takes exactly one of --approve and --reject.');
        const decision = flags['approve'] === true ? 'approve' : 'reject';
        const change = (await client().call('POST', `config/changes/${encodeURIComponent(id!)}/reviews`, { decision, comment: requireFlag(flags, 'comment', 'what the review found') })) as ChangeView;
        print(change, `change ${change.id} is ${change.status}${change.status === 'approved' ? `; apply it with \`holdfast changes apply ${change.id}\`` : ''}`);
        return EXIT_OK;
      }
      case 'apply': {
        const [id] = expectArgs('changes', rest, 1, 'apply ID');
        const result = (await client().call('POST', `config/changes/${encodeURIComponent(id!)}/apply`)) as { change: ChangeView; baseline: { id: string; evidence: { location: string } | null } };
        print(result, `applied change ${result.change.id}: new approved baseline ${result.baseline.id} (evidence ${result.baseline.evidence?.location ?? '-'}); ${result.change.applied?.explainedDrift.length ?? 0} drift item(s) approved`);
        return EXIT_OK;
      }
      case 'list': {
        expectArgs('changes', rest, 0, 'list [--limit N]');
        const result = (await client().call('GET', 'config/changes', undefined, limitQuery(flags, '50'))) as { changes: ChangeView[] };
        print(result, result.changes.length === 0 ? 'No change requests yet.' : result.changes.map(describe).join('\n'));
        return EXIT_OK;
      }
      case 'show': {
        const [id] = expectArgs('changes', rest, 1, 'show ID');
        const change = (await client().call('GET', `config/changes/${encodeURIComponent(id!)}`)) as ChangeView;
        const lines = [
          describe(change),
          ...(change.description === '' ? [] : [`  ${change.description}`]),
          ...change.expected.map((e) => `  ${e.target === null ? 'remove' : 'set'} ${e.component} ${e.resourceId}${e.target === null ? '' : ` = ${JSON.stringify(e.target)}`}`),
          ...diffLines(change),
          ...change.reviews.map((r) => `  ${r.decision} by ${r.by} ${r.at}: ${r.comment ?? ''}`),
          ...(change.applied === null ? [] : [`  applied by ${change.applied.by} ${change.applied.at} -> baseline ${change.applied.baselineId}`]),
        ];
        print(change, lines.join('\n'));
        return EXIT_OK;
      }
      default:
        throw new UsageError(action === undefined ? 'Name an action: propose, review, apply, list or show.' : `Unknown changes action "${action}".`);
    }
  });
}

function describe(c: ChangeView): string {
  return [c.id, c.status.toUpperCase(), `${c.risk} risk`, c.title, `by ${c.proposedBy} ${c.proposedAt}`].join('\t');
}

/** The diff the change causes against the baseline it was proposed on: what the reviewer approves. */
function diffLines(c: ChangeView): string[] {
  if (c.diff === null) return [];
  const head = `  diff against ${c.baselineId === null ? 'no approved baseline' : `baseline ${c.baselineId}`}: ${c.diff.length === 0 ? 'no change (the targets are already the baseline)' : `${c.diff.length} resource(s)`}`;
  return [head, ...c.diff.flatMap((d) => [`    ${d.difference} ${d.component} ${d.resourceId}`, ...attributeChangeLines(d.changes, '      ')])];
}

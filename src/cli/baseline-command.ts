import { runAdminApiCommand } from './admin-api-command.js';
import { writeFileSync } from 'node:fs';
import { EXIT_OK } from './exit-codes.js';
import { COLLECTION_HELP, COLLECTION_OPTIONS, collectionFromFlags, CONNECTION_HELP, expectArgs, limitQuery, UsageError } from './config-guard-cli.js';

const USAGE = `Usage: holdfast baseline ACTION [ARGS] [--json] [connection options]

  capture --items FILE          proposes the items of FILE (\`holdfast config collect --out FILE\`) as a baseline
  approve ID [--comment TEXT]   approves a proposed baseline; it must be someone other than the proposer
                                (two-person rule); the approved baseline is stored as locked evidence
  reject ID [--comment TEXT]    rejects a proposed baseline
  list [--limit N]              baselines, newest first (approved, superseded, proposed, rejected)
  show ID|current               one baseline with its items
  page [ID|current] [--format md|html] [--out FILE]
                                the "Baseline Configuration Settings" document of an approved baseline

${COLLECTION_HELP}

${CONNECTION_HELP}
`;

interface BaselineView {
  id: string;
  status: string;
  proposedBy: string;
  proposedAt: string;
  itemCount: number;
  digest: string;
  decidedBy: string | null;
  decidedAt: string | null;
  evidence: { location: string } | null;
  origin: { kind: string; changeId?: string };
}

export function runBaselineCommand(args: string[]): Promise<number> {
  const options = { ...COLLECTION_OPTIONS, comment: { type: 'string' }, limit: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } } as const;
  return runAdminApiCommand('baseline', USAGE, args, options, async ({ action, args: rest, flags, client, print }) => {
    const comment = typeof flags['comment'] === 'string' ? { comment: flags['comment'] } : {};
    switch (action) {
      case 'capture': {
        expectArgs('baseline', rest, 0, 'capture (--items FILE | --sources FILE | --terraform FILE ...)');
        const collection = await collectionFromFlags('baseline', flags);
        const baseline = (await client().call('POST', 'config/baselines', collection)) as BaselineView;
        print(baseline, `proposed baseline ${baseline.id} (${baseline.itemCount} items, sha256 ${baseline.digest}); another admin approves it with \`holdfast baseline approve ${baseline.id}\``);
        return EXIT_OK;
      }
      case 'approve':
      case 'reject': {
        const [id] = expectArgs('baseline', rest, 1, `${action} ID [--comment TEXT]`);
        const baseline = (await client().call('POST', `config/baselines/${encodeURIComponent(id!)}/${action}`, comment)) as BaselineView;
        print(baseline, action === 'approve' ? `approved baseline ${baseline.id}; evidence ${baseline.evidence?.location ?? '-'}` : `rejected baseline ${baseline.id}`);
        return EXIT_OK;
      }
      case 'list': {
        expectArgs('baseline', rest, 0, 'list [--limit N]');
        const result = (await client().call('GET', 'config/baselines', undefined, limitQuery(flags, '50'))) as { baselines: BaselineView[] };
        print(result, result.baselines.length === 0 ? 'No baselines yet.' : result.baselines.map(describe).join('\n'));
        return EXIT_OK;
      }
      case 'show': {
        const [id] = expectArgs('baseline', rest, 1, 'show ID|current');
        const result = (await client().call('GET', `config/baselines/${encodeURIComponent(id!)}`)) as BaselineView & { items: { component: string; resourceId: string; kind: string }[] };
        print(result, [describe(result), ...result.items.map((i) => `  ${i.component}\t${i.resourceId}\t${i.kind}`)].join('\n'));
        return EXIT_OK;
      }
      case 'page': {
        if (rest.length > 1) throw new UsageError('page takes at most one baseline id (default: current).');
        const format = typeof flags['format'] === 'string' ? flags['format'] : 'md';
        if (format !== 'md' && format !== 'html') throw new UsageError(`--format is md or html, not "${format}".`);
        const result = (await client().call('GET', `config/baselines/${encodeURIComponent(rest[0] ?? 'current')}/page`, undefined, { format })) as { baselineId: string; format: string; content: string };
        const out = flags['out'];
        if (typeof out === 'string') {
          writeFileSync(out, result.content);
          print({ baselineId: result.baselineId, format, out }, `wrote the settings page of ${result.baselineId} to ${out}`);
        } else if (flags['json'] === true) print(result, '');
        else process.stdout.write(result.content);
        return EXIT_OK;
      }
      default:
        throw new UsageError(action === undefined ? 'Name an action: capture, approve, reject, list, show or page.' : `Unknown baseline action "${action}".`);
    }
  });
}

function describe(b: BaselineView): string {
  return [
    b.id,
    b.status.toUpperCase(),
    `${b.itemCount} items`,
    `proposed by ${b.proposedBy} ${b.proposedAt}`,
    b.decidedBy === null ? 'undecided' : `decided by ${b.decidedBy} ${b.decidedAt ?? ''}`,
    ...(b.origin.kind === 'change-request' ? [`from change ${b.origin.changeId ?? ''}`] : []),
  ].join('\t');
}

import { runAdminApiCommand } from './admin-api-command.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND } from './exit-codes.js';
import { CONNECTION_HELP, expectArgs, requireFlag, UsageError } from './config-guard-cli.js';

const USAGE = `Usage: holdfast reviews ACTION [ARGS] [--json] [connection options]

  due [--all]                          components whose review is due (within 14 days) or overdue
                                       (--all: every component); exit 4 when any is overdue
  sign-off COMPONENT --notes TEXT      records that you reviewed COMPONENT (container, network, dns,
                                       storage, iam, environment, database, policy); kept as locked evidence

Frequencies: network, storage and iam quarterly, the policy and the rest annually, unless the
server's reviewFrequencies says otherwise. The first period starts when the first baseline is approved.
${CONNECTION_HELP}
`;

interface StandingView {
  component: string;
  status: 'ok' | 'due' | 'overdue' | 'not-scheduled';
  frequencyMonths: number | null;
  dueAt: string | null;
  lastReview: { kind: string; at: string; by: string } | null;
}

export function runReviewsCommand(args: string[]): Promise<number> {
  return runAdminApiCommand('reviews', USAGE, args, { all: { type: 'boolean' }, notes: { type: 'string' } }, async ({ action, args: rest, flags, client, print }) => {
    switch (action) {
      case 'due': {
        expectArgs('reviews', rest, 0, 'due [--all]');
        const { reviews } = (await client().call('GET', 'config/reviews')) as { reviews: StandingView[] };
        const shown = flags['all'] === true ? reviews : reviews.filter((r) => r.status === 'due' || r.status === 'overdue');
        const overdue = reviews.filter((r) => r.status === 'overdue').length;
        print({ reviews: shown, overdue }, shown.length === 0 ? 'No configuration review is due.' : shown.map(describe).join('\n'));
        return overdue > 0 ? EXIT_PROBLEMS_FOUND : EXIT_OK;
      }
      case 'sign-off': {
        const [component] = expectArgs('reviews', rest, 1, 'sign-off COMPONENT --notes TEXT');
        const signOff = (await client().call('POST', `config/reviews/${encodeURIComponent(component!)}/sign-off`, { notes: requireFlag(flags, 'notes', 'what was reviewed and found') })) as { id: string; component: string; signedAt: string; evidence: { location: string } | null };
        print(signOff, `signed off the ${signOff.component} review (${signOff.id}, ${signOff.signedAt}); evidence ${signOff.evidence?.location ?? '-'}`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(action === undefined ? 'Name an action: due or sign-off.' : `Unknown reviews action "${action}".`);
    }
  });
}

function describe(r: StandingView): string {
  const last = r.lastReview === null ? 'never reviewed' : `${r.lastReview.kind === 'sign-off' ? 'last sign-off' : 'first baseline'} ${r.lastReview.at} by ${r.lastReview.by}`;
  return [r.component, r.status.toUpperCase(), r.frequencyMonths === null ? 'no schedule' : `every ${r.frequencyMonths} month(s)`, `due ${r.dueAt ?? '-'}`, last].join('\t');
}

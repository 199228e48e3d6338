import { readFileSync } from 'node:fs';
import { type Flags, stringFlag as flag } from './admin-api-command.js';
import type { AdminClient } from './admin-client.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND } from './exit-codes.js';
import { ProgressLine } from './progress-line.js';
import { UsageError } from './usage-error.js';

export { UsageError };

export interface SubcommandInput {
  readonly client: AdminClient;
  readonly args: readonly string[];
  readonly flags: Flags;
}

export interface SubcommandOutput {
  /** The server's answer, printed as is with --json. */
  readonly result: unknown;
  /** Human-readable lines without --json. */
  readonly text: string;
  /** Exit code when the command ran but found problems (audit verify). */
  readonly exitCode?: number;
}

type Subcommand = (input: SubcommandInput) => Promise<SubcommandOutput>;

const enc = encodeURIComponent;

function arity(args: readonly string[], names: readonly string[]): string[] {
  if (args.length !== names.length) throw new UsageError(`Expected ${names.length === 0 ? 'no arguments' : names.join(' ')}, got ${args.length === 0 ? 'none' : args.join(' ')}.`);
  return [...args];
}

function isoFlag(flags: SubcommandInput['flags'], name: string): string | undefined {
  const value = flag(flags, name);
  if (value !== undefined && Number.isNaN(Date.parse(value))) throw new UsageError(`--${name} takes an ISO 8601 time such as 2027-01-31T00:00:00Z, not "${value}".`);
  return value;
}

function days(flags: SubcommandInput['flags'], name: string): number | undefined {
  const value = flag(flags, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value)) throw new UsageError(`--${name} takes a whole number of days, not "${value}".`);
  return Number(value);
}

const SCRUB_POLL_MS = 1000;

interface ScrubPassView {
  id: string;
  trigger: string;
  outcome: string;
  startedAt: string;
  endedAt: string | null;
  plannedVersions: number;
  totalVersions: number;
  versions: number;
  bytes: number;
  failures: number;
  cycleCompleted: boolean;
  error: string | null;
}

interface ScrubFindingView {
  passId: string;
  bucket: string;
  key: string;
  versionId: string;
  problem: string;
  detail: string;
}

interface ScrubStatusView {
  schedule: { intervalHours: number; fraction: number; bytesPerSecond: number };
  running: ScrubPassView | null;
  lastCycleCompletedAt: string | null;
  passes: ScrubPassView[];
  findings: ScrubFindingView[];
}

function describeScrubPass(pass: ScrubPassView): string {
  return [
    pass.id,
    pass.outcome,
    pass.trigger,
    pass.startedAt,
    `${pass.versions}/${pass.plannedVersions} of ${pass.totalVersions} versions`,
    `${pass.bytes} bytes`,
    `${pass.failures} damaged`,
    ...(pass.cycleCompleted ? ['reached the end of the vault'] : []),
    ...(pass.error === null ? [] : [pass.error]),
  ].join('\t');
}

function describeScrubFinding(finding: ScrubFindingView): string {
  return `DAMAGED ${finding.bucket}/${finding.key} version ${finding.versionId}: ${finding.problem}: ${finding.detail}`;
}

interface BucketView {
  name: string;
  versioning: string;
  objectLock: { enabled: boolean; defaultRetention: { mode: string; days?: number; years?: number } | null };
  retentionBounds: { minDays?: number; maxDays?: number } | null;
  protected: boolean;
}

export function describeBucket(bucket: BucketView): string {
  const rule = bucket.objectLock.defaultRetention;
  const lock = bucket.objectLock.enabled
    ? `object lock on${rule === null ? '' : `, default ${rule.mode} ${rule.days !== undefined ? `${rule.days} days` : `${rule.years} years`}`}`
    : 'object lock off';
  const bounds = bucket.retentionBounds;
  const boundsText = bounds === null ? 'no retention bounds' : `retention ${bounds.minDays ?? 0}–${bounds.maxDays ?? '∞'} days`;
  return `${bucket.name}\tversioning ${bucket.versioning}\t${lock}\t${boundsText}${bucket.protected ? '\tprotected' : ''}`;
}

interface KeyView {
  accessKeyId: string;
  owner: string;
  status: string;
  createdAt: string;
  expiresAt: string | null;
  description: string | null;
}

function describeKey(key: KeyView): string {
  return `${key.accessKeyId}\t${key.owner}\t${key.status}\tcreated ${key.createdAt}${key.expiresAt === null ? '' : `\texpires ${key.expiresAt}`}${key.description === null ? '' : `\t${key.description}`}`;
}

interface UserView {
  name: string;
  kind: string;
  roles: string[];
  policies: Record<string, unknown>;
  disabled: boolean;
  dutyOverride: { reason: string; grantedBy: string } | null;
  accessKeys: KeyView[];
}

function describeUser(user: UserView): string {
  const parts = [
    user.name,
    user.kind,
    `roles: ${user.roles.length === 0 ? '-' : user.roles.join(',')}`,
    `policies: ${Object.keys(user.policies).length === 0 ? '-' : Object.keys(user.policies).join(',')}`,
    `keys: ${user.accessKeys.length}`,
  ];
  if (user.disabled) parts.push('DISABLED');
  if (user.dutyOverride !== null) parts.push(`duty override by ${user.dutyOverride.grantedBy}: ${user.dutyOverride.reason}`);
  return parts.join('\t');
}

interface ChangeView {
  id: string;
  status: string;
  summary: string;
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  change: { bucket: string };
}

function describeChange(change: ChangeView): string {
  return `${change.id}\t${change.status}\t${change.change.bucket}\t${change.summary}\trequested by ${change.requestedBy} at ${change.requestedAt}${change.decidedBy === null ? '' : `\tdecided by ${change.decidedBy}`}`;
}

function lines<T>(items: readonly T[], describe: (item: T) => string, empty: string): string {
  return items.length === 0 ? empty : items.map(describe).join('\n');
}

function readPolicyFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read policy file ${path}: ${(e as Error).message}.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not JSON: ${(e as Error).message}.`);
  }
}

async function bucketCall(input: SubcommandInput, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<SubcommandOutput> {
  const result = (await input.client.call(method, path, body)) as BucketView;
  return { result, text: describeBucket(result) };
}

async function userCall(input: SubcommandInput, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<SubcommandOutput> {
  const result = (await input.client.call(method, path, body)) as UserView;
  return { result, text: describeUser(result) };
}

async function keyCall(input: SubcommandInput, method: 'PATCH' | 'DELETE', id: string, body?: unknown): Promise<SubcommandOutput> {
  const result = (await input.client.call(method, `keys/${enc(id)}`, body)) as KeyView | { deleted: KeyView };
  return { result, text: describeKey('deleted' in result ? result.deleted : result) };
}

function secretText(created: KeyView & { secretAccessKey: string }): string {
  return [
    `access key id:     ${created.accessKeyId}`,
    `secret access key: ${created.secretAccessKey}`,
    'The secret is shown once; store it now (e.g. in the service\'s secret store or an AWS credentials file).',
  ].join('\n');
}

export const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  // ---- buckets ----
  'buckets list': async (input) => {
    arity(input.args, []);
    const result = (await input.client.call('GET', 'buckets')) as { buckets: BucketView[] };
    return { result, text: lines(result.buckets, describeBucket, '(no buckets)') };
  },
  'buckets show': (input) => bucketCall(input, 'GET', `buckets/${enc(arity(input.args, ['BUCKET'])[0]!)}`),
  'buckets set-retention-bounds': (input) => {
    const [bucket] = arity(input.args, ['BUCKET']);
    const minDays = days(input.flags, 'min-days');
    const maxDays = days(input.flags, 'max-days');
    const clear = input.flags['clear'] === true;
    if (clear && (minDays !== undefined || maxDays !== undefined)) throw new UsageError('--clear cannot be combined with --min-days/--max-days.');
    if (!clear && minDays === undefined && maxDays === undefined) throw new UsageError('Give --min-days and/or --max-days, or --clear.');
    const body = clear ? null : { ...(minDays === undefined ? {} : { minDays }), ...(maxDays === undefined ? {} : { maxDays }) };
    return bucketCall(input, 'PUT', `buckets/${enc(bucket!)}/retention-bounds`, body);
  },
  'buckets protect': (input) => bucketCall(input, 'PUT', `buckets/${enc(arity(input.args, ['BUCKET'])[0]!)}/protection`, { protected: true }),
  'buckets unprotect': (input) => bucketCall(input, 'PUT', `buckets/${enc(arity(input.args, ['BUCKET'])[0]!)}/protection`, { protected: false }),
  // ---- users ----
  'users list': async (input) => {
    arity(input.args, []);
    const result = (await input.client.call('GET', 'users')) as { users: UserView[] };
    return { result, text: lines(result.users, describeUser, '(no users; root only)') };
  },
  'users show': (input) => userCall(input, 'GET', `users/${enc(arity(input.args, ['USER'])[0]!)}`),
  'users create': async (input) => {
    const [name] = arity(input.args, ['USER']);
    const roles = (input.flags['role'] as string[] | undefined) ?? [];
    const reason = flag(input.flags, 'duty-override-reason');
    const result = (await input.client.call('POST', 'users', {
      name,
      kind: input.flags['service'] === true ? 'service' : 'user',
      roles,
      ...(reason === undefined ? {} : { dutyOverrideReason: reason }),
    })) as UserView;
    return { result, text: describeUser(result) };
  },
  'users delete': async (input) => {
    const [name] = arity(input.args, ['USER']);
    const result = (await input.client.call('DELETE', `users/${enc(name!)}`)) as { deleted: string; deletedKeys: string[] };
    return { result, text: `deleted ${result.deleted} and its ${result.deletedKeys.length} access key(s)` };
  },
  'users attach-role': (input) => {
    const [user, role] = arity(input.args, ['USER', 'ROLE']);
    return userCall(input, 'PUT', `users/${enc(user!)}/roles/${enc(role!)}`);
  },
  'users detach-role': (input) => {
    const [user, role] = arity(input.args, ['USER', 'ROLE']);
    return userCall(input, 'DELETE', `users/${enc(user!)}/roles/${enc(role!)}`);
  },
  'users put-policy': (input) => {
    const [user, name, file] = arity(input.args, ['USER', 'POLICY-NAME', 'FILE.json']);
    return userCall(input, 'PUT', `users/${enc(user!)}/policies/${enc(name!)}`, readPolicyFile(file!));
  },
  'users delete-policy': (input) => {
    const [user, name] = arity(input.args, ['USER', 'POLICY-NAME']);
    return userCall(input, 'DELETE', `users/${enc(user!)}/policies/${enc(name!)}`);
  },
  'users disable': (input) => userCall(input, 'PUT', `users/${enc(arity(input.args, ['USER'])[0]!)}/status`, { disabled: true }),
  'users enable': (input) => userCall(input, 'PUT', `users/${enc(arity(input.args, ['USER'])[0]!)}/status`, { disabled: false }),
  'users set-duty-override': (input) => {
    const [user] = arity(input.args, ['USER']);
    const reason = flag(input.flags, 'reason');
    if (reason === undefined) throw new UsageError('--reason TEXT is required: say why this identity may both write and delete (e.g. "CI scratch bucket").');
    return userCall(input, 'PUT', `users/${enc(user!)}/duty-override`, { reason });
  },
  'users clear-duty-override': (input) => userCall(input, 'DELETE', `users/${enc(arity(input.args, ['USER'])[0]!)}/duty-override`),
  // ---- policies ----
  'policies list': async (input) => {
    const [user] = arity(input.args, ['USER']);
    const result = (await input.client.call('GET', `users/${enc(user!)}`)) as UserView;
    const names = [...result.roles.map((r) => `role:${r}`), ...Object.keys(result.policies).map((p) => `inline:${p}`)];
    return { result: { roles: result.roles, policies: result.policies }, text: names.length === 0 ? '(no policies: every request is denied)' : names.join('\n') };
  },
  'policies put': (input) => {
    const [user, name, file] = arity(input.args, ['USER', 'POLICY-NAME', 'FILE.json']);
    return userCall(input, 'PUT', `users/${enc(user!)}/policies/${enc(name!)}`, readPolicyFile(file!));
  },
  'policies delete': (input) => {
    const [user, name] = arity(input.args, ['USER', 'POLICY-NAME']);
    return userCall(input, 'DELETE', `users/${enc(user!)}/policies/${enc(name!)}`);
  },
  'policies simulate': async (input) => {
    const [user, action, resource] = arity(input.args, ['USER', 'ACTION', 'RESOURCE']);
    const context: Record<string, string> = {};
    for (const pair of (input.flags['context'] as string[] | undefined) ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--context takes KEY=VALUE, e.g. aws:SourceIp=10.0.0.5, not "${pair}".`);
      context[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const result = (await input.client.call('POST', `users/${enc(user!)}/simulate`, { action, resource, context })) as {
      allowed: boolean;
      reason: string;
      statement?: { policy: string; sid?: string; index: number };
    };
    const by = result.statement === undefined ? '' : ` by ${result.statement.policy} statement ${result.statement.sid ?? result.statement.index}`;
    return { result, text: `${result.allowed ? 'ALLOWED' : 'DENIED'} (${result.reason}${by})`, exitCode: result.allowed ? 0 : 3 };
  },
  // ---- keys ----
  'keys list': async (input) => {
    arity(input.args, []);
    const user = flag(input.flags, 'user');
    const result = (await input.client.call('GET', 'keys', undefined, user === undefined ? {} : { user })) as { keys: KeyView[] };
    return { result, text: lines(result.keys, describeKey, '(no access keys)') };
  },
  'keys create': async (input) => {
    const [user] = arity(input.args, ['USER']);
    const expiresAt = isoFlag(input.flags, 'expires');
    const description = flag(input.flags, 'description');
    const result = (await input.client.call('POST', `users/${enc(user!)}/keys`, {
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(description === undefined ? {} : { description }),
    })) as KeyView & { secretAccessKey: string };
    return { result, text: secretText(result) };
  },
  'keys disable': (input) => keyCall(input, 'PATCH', arity(input.args, ['ACCESS-KEY-ID'])[0]!, { status: 'inactive' }),
  'keys enable': (input) => keyCall(input, 'PATCH', arity(input.args, ['ACCESS-KEY-ID'])[0]!, { status: 'active' }),
  'keys expire': (input) => {
    const [id] = arity(input.args, ['ACCESS-KEY-ID']);
    const at = isoFlag(input.flags, 'at');
    if (at === undefined && input.flags['never'] !== true) throw new UsageError('Give --at ISO-TIME, or --never to remove the expiry.');
    return keyCall(input, 'PATCH', id!, { expiresAt: at ?? null });
  },
  'keys rotate': async (input) => {
    const [id] = arity(input.args, ['ACCESS-KEY-ID']);
    const grace = flag(input.flags, 'grace-hours');
    if (grace !== undefined && !/^\d{1,4}$/.test(grace)) throw new UsageError(`--grace-hours takes a whole number of hours, not "${grace}".`);
    const result = (await input.client.call('POST', `keys/${enc(id!)}/rotate`, undefined, grace === undefined ? {} : { graceHours: grace })) as {
      old: KeyView;
      created: KeyView & { secretAccessKey: string };
    };
    return { result, text: `${secretText(result.created)}\nold key: ${describeKey(result.old)}` };
  },
  'keys delete': (input) => keyCall(input, 'DELETE', arity(input.args, ['ACCESS-KEY-ID'])[0]!),
  // ---- roles ----
  'roles list': async (input) => {
    arity(input.args, []);
    const result = (await input.client.call('GET', 'roles')) as { roles: Array<{ name: string; description: string }> };
    return { result, text: lines(result.roles, (r) => `${r.name}\t${r.description}`, '(no roles)') };
  },
  // ---- two-person rule ----
  'approvals list': async (input) => {
    arity(input.args, []);
    const result = (await input.client.call('GET', 'approvals')) as { changes: ChangeView[] };
    return { result, text: lines(result.changes, describeChange, '(no change requests)') };
  },
  'approvals approve': async (input) => {
    const result = (await input.client.call('POST', `approvals/${enc(arity(input.args, ['CHANGE-ID'])[0]!)}/approve`)) as ChangeView;
    return { result, text: describeChange(result) };
  },
  'approvals cancel': async (input) => {
    const result = (await input.client.call('DELETE', `approvals/${enc(arity(input.args, ['CHANGE-ID'])[0]!)}`)) as ChangeView;
    return { result, text: describeChange(result) };
  },
  // ---- alerts ----
  'alerts status': async (input) => {
    arity(input.args, []);
    const result = await input.client.call('GET', 'alerts');
    return { result, text: JSON.stringify(result, null, 2) };
  },
  // ---- integrity scrub ----
  'scrub run': async (input) => {
    arity(input.args, []);
    const fractionText = flag(input.flags, 'fraction');
    const fraction = fractionText === undefined ? undefined : Number(fractionText);
    if (fraction !== undefined && !(fraction > 0 && fraction <= 1)) throw new UsageError(`--fraction takes a number greater than 0 and at most 1 (e.g. 0.25), not "${fractionText}".`);
    const started = (await input.client.call('POST', 'scrub/passes', fraction === undefined ? {} : { fraction })) as { pass: ScrubPassView; started: boolean };
    if (!started.started) process.stderr.write(`holdfast admin scrub: pass ${started.pass.id} was already running; waiting for it\n`);
    const progress = new ProgressLine(`integrity scrub ${started.pass.id}`, { write: (t) => process.stderr.write(t), interactive: process.stderr.isTTY });
    let result: { pass: ScrubPassView; findings: ScrubFindingView[] };
    for (;;) {
      result = (await input.client.call('GET', `scrub/passes/${enc(started.pass.id)}`)) as { pass: ScrubPassView; findings: ScrubFindingView[] };
      if (result.pass.outcome !== 'running') break;
      progress.update(result.pass.bytes, undefined, `${result.pass.versions} of ${result.pass.plannedVersions} versions, ${result.pass.failures} damaged`);
      await new Promise((resolve) => setTimeout(resolve, SCRUB_POLL_MS));
    }
    progress.done();
    const { pass, findings } = result;
    const exitCode = pass.outcome !== 'completed' ? EXIT_FAILURE : pass.failures > 0 ? EXIT_PROBLEMS_FOUND : EXIT_OK;
    return { result, text: [describeScrubPass(pass), ...findings.map(describeScrubFinding)].join('\n'), exitCode };
  },
  'scrub status': async (input) => {
    arity(input.args, []);
    const result = (await input.client.call('GET', 'scrub')) as ScrubStatusView;
    const schedule = result.schedule.intervalHours === 0 ? 'scheduled passes off' : `every ${result.schedule.intervalHours} h, ${Math.round(result.schedule.fraction * 1000) / 10}% of the versions per pass`;
    const text = [
      `integrity scrub: ${schedule}, at most ${result.schedule.bytesPerSecond} bytes/s; whole vault last covered ${result.lastCycleCompletedAt ?? 'never'}`,
      ...(result.running === null ? [] : [`RUNNING ${describeScrubPass(result.running)}`]),
      ...result.passes.map(describeScrubPass),
      ...(result.findings.length === 0 ? ['no damaged versions found'] : ['damaged versions (newest first):', ...result.findings.map(describeScrubFinding)]),
    ].join('\n');
    return { result, text };
  },
  'alerts test': async (input) => {
    arity(input.args, []);
    const result = await input.client.call('POST', 'alerts/test');
    return { result, text: 'a test alert was queued on every channel' };
  },
};

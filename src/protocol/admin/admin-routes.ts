import { s3errors } from '../../domain/errors.js';
import type { BucketProtection } from '../../domain/bucket-protection.js';
import type { IdentityRegistry } from '../../domain/identity/identity-registry.js';
import type { IdentityRecord } from '../../domain/identity/identity-model.js';
import { parseIdentityPolicy } from '../../domain/identity/principal.js';
import type { Principal } from '../../domain/identity/principal.js';
import type { AccessDecision, AccessTarget } from '../../domain/identity/access-control.js';
import type { RetentionBounds } from '../../domain/object-lock.js';
import { BUILT_IN_ROLES } from '../../domain/policy/roles.js';
import type { Vault } from '../../domain/vault.js';
import { checkEvidenceName, type EvidenceArchive } from '../../domain/evidence/evidence-archive.js';
import { accessKeyView, bucketView, changeView, identityView } from './admin-views.js';
import type { ConfigGuard } from '../../domain/config-guard/config-guard.js';
import { CONFIG_GUARD_ROUTES } from './config-guard-routes.js';

/** Audit log operations the admin API exposes (implemented by the server around the audit log). */
export interface AdminAuditApi {
  verify(): Promise<unknown>;
  checkpoints(): Promise<unknown>;
  /** JSON lines, one entry per line. */
  exportLines(filter: Readonly<Record<string, string>>): AsyncIterable<string>;
}

/** Alert delivery status for the admin API. */
export interface AdminAlertsApi {
  status(): Promise<unknown>;
  test(actor: string): Promise<unknown>;
}

/** Scheduled backup jobs (src/server/backup-jobs-service.ts). */
export interface AdminJobsApi {
  list(): Promise<unknown>;
  /** Starts a run now; answers at once with the run (`running`). */
  start(job: string): Promise<unknown>;
  run(id: string): Promise<unknown>;
  history(job: string | undefined, limit: number): Promise<unknown>;
  /** Starts a restore drill of the job's newest successful run; answers at once (`running`). */
  startDrill(job: string): Promise<unknown>;
  /** A drill: running, or finished with its evidence record. */
  drill(id: string): Promise<unknown>;
}

/** The integrity scrub (src/server/integrity-scrub-service.ts). */
export interface AdminScrubApi {
  /** Starts a pass now (or answers with the one running); `fraction` overrides the configured share. */
  start(fraction: number | undefined): Promise<unknown>;
  status(limit: number): Promise<unknown>;
  pass(id: string): Promise<unknown>;
}

/** Answers "would this identity be allowed this action on this resource?" with the real evaluator. */
export type PolicySimulator = (principal: Principal, action: string, target: AccessTarget, context: Map<string, string>) => Promise<AccessDecision>;

export interface AdminServices {
  readonly simulate: PolicySimulator;
  readonly vault: Vault;
  readonly protection: BucketProtection;
  readonly identities: IdentityRegistry;
  readonly nowMs: () => number;
  readonly audit?: AdminAuditApi;
  readonly alerts?: AdminAlertsApi;
  readonly jobs?: AdminJobsApi;
  readonly evidence?: EvidenceArchive;
  /** Baselines, drift, change requests and reviews (config-guard-routes.ts). */
  readonly configGuard?: ConfigGuard;
  readonly scrub?: AdminScrubApi;
}

/** A configuration change made through the admin API, for the audit log and alerts. */
export interface AdminChange {
  readonly kind: string;
  readonly target: string;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

/** Who made configuration changes, for their audit entries. */
export interface ChangeActor {
  readonly identity: string;
  readonly accessKeyId: string;
  readonly sourceIp: string | undefined;
  readonly requestId: string;
  readonly userAgent: string | undefined;
}

export interface AdminCall {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: () => unknown;
  readonly principal: Principal;
  readonly services: AdminServices;
  /** Records what changed (the handler puts it in the audit log). */
  readonly changed: (change: AdminChange) => void;
}

export type AdminResult = { readonly status?: number; readonly json: unknown } | { readonly status?: number; readonly lines: AsyncIterable<string> };

export interface AdminRoute {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  /** Path segments; `:x` matches one segment. */
  readonly path: readonly string[];
  /** The `holdfast:` action policies grant (the admin role has `holdfast:*`, the auditor the read ones). */
  readonly action: string;
  /** A larger body cap than the default 64 KiB (configuration collections). */
  readonly maxBodyBytes?: number;
  readonly handle: (call: AdminCall) => Promise<AdminResult>;
}

const p = (path: string): string[] => path.split('/');

function str(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw s3errors.invalidArgument(`"${field}" must be a non-empty string.`, field);
  return value;
}

function objectBody(call: AdminCall): Record<string, unknown> {
  const body = call.body();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw s3errors.invalidRequest('The body must be a JSON object.');
  return body as Record<string, unknown>;
}

function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw s3errors.invalidRequest(`Unknown field "${key}"; expected ${allowed.join(', ')}.`);
  }
}

function param(call: AdminCall, index: number): string {
  return call.params[index] ?? '';
}

/** An admin may not widen their own rights: a second admin has to (no self-escalation). */
function notSelf(call: AdminCall, name: string): void {
  if (call.principal.name === name) {
    throw s3errors.accessDenied(`You cannot change your own identity's roles, policies or overrides; another admin has to.`);
  }
}

function optionalTime(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw s3errors.invalidArgument(`"${field}" must be an ISO 8601 time such as 2027-01-31T00:00:00Z.`, field, JSON.stringify(value));
  return ms;
}

/** `{"minDays": 7, "maxDays": 90}` (either may be omitted), or `null` to clear the bounds. */
function parseBounds(value: unknown): RetentionBounds | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw s3errors.invalidRequest('The body must be a JSON object or null.');
  const fields = value as Record<string, unknown>;
  onlyFields(fields, ['minDays', 'maxDays']);
  const bounds: { minDays?: number; maxDays?: number } = {};
  for (const key of ['minDays', 'maxDays'] as const) {
    const v = fields[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') throw s3errors.invalidArgument(`${key} must be a number of days.`, key, JSON.stringify(v));
    bounds[key] = v;
  }
  return bounds;
}

async function editIdentity(call: AdminCall, edit: (current: IdentityRecord) => IdentityRecord, kind: string, details: AdminChange['details']) {
  const name = param(call, 0);
  notSelf(call, name);
  const updated = await call.services.identities.updateIdentity(name, edit);
  call.changed({ kind, target: `identity/${name}`, details });
  return { json: identityView(updated, call.services.identities.listAccessKeys(name)) };
}

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  // ---- buckets ----
  { method: 'GET', path: p('buckets'), action: 'holdfast:ListBuckets', handle: async ({ services }) => ({ json: { buckets: (await services.vault.listBuckets()).map(bucketView) } }) },
  { method: 'GET', path: p('buckets/:b'), action: 'holdfast:GetBucket', handle: async (c) => ({ json: bucketView(await c.services.vault.getBucket(param(c, 0))) }) },
  {
    method: 'PUT',
    path: p('buckets/:b/retention-bounds'),
    action: 'holdfast:PutRetentionBounds',
    handle: async (c) => {
      const bounds = parseBounds(c.body());
      const before = (await c.services.vault.getBucket(param(c, 0))).retentionBounds;
      const bucket = await c.services.protection.setRetentionBounds(param(c, 0), bounds, c.principal.name);
      c.changed({
        kind: 'retention-bounds',
        target: `bucket/${param(c, 0)}`,
        details: { minDays: bounds?.minDays ?? null, maxDays: bounds?.maxDays ?? null, beforeMinDays: before?.minDays ?? null, beforeMaxDays: before?.maxDays ?? null },
      });
      return { json: bucketView(bucket) };
    },
  },
  {
    method: 'PUT',
    path: p('buckets/:b/protection'),
    action: 'holdfast:PutBucketProtection',
    handle: async (c) => {
      const body = objectBody(c);
      onlyFields(body, ['protected']);
      if (typeof body['protected'] !== 'boolean') throw s3errors.invalidArgument('"protected" must be true or false.', 'protected');
      const bucket = await c.services.protection.setProtected(param(c, 0), body['protected'], c.principal.name);
      c.changed({ kind: 'bucket-protection', target: `bucket/${param(c, 0)}`, details: { protected: body['protected'] } });
      return { json: bucketView(bucket) };
    },
  },
  // ---- roles ----
  {
    method: 'GET',
    path: p('roles'),
    action: 'holdfast:ListRoles',
    handle: async () => ({
      json: { roles: Object.entries(BUILT_IN_ROLES).map(([name, role]) => ({ name, description: role.description, policy: JSON.parse(role.document.text) as unknown })) },
    }),
  },
  // ---- identities ----
  {
    method: 'GET',
    path: p('users'),
    action: 'holdfast:ListIdentities',
    handle: async ({ services }) => ({ json: { users: services.identities.listIdentities().map((i) => identityView(i, services.identities.listAccessKeys(i.name))) } }),
  },
  {
    method: 'POST',
    path: p('users'),
    action: 'holdfast:CreateIdentity',
    handle: async (c) => {
      const body = objectBody(c);
      onlyFields(body, ['name', 'kind', 'roles', 'dutyOverrideReason']);
      const kind = body['kind'] ?? 'user';
      if (kind !== 'user' && kind !== 'service') throw s3errors.invalidArgument('"kind" must be "user" or "service".', 'kind', JSON.stringify(kind));
      const roles = body['roles'] ?? [];
      if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) throw s3errors.invalidArgument('"roles" must be a list of role names.', 'roles');
      const reason = body['dutyOverrideReason'] === undefined ? undefined : str(body['dutyOverrideReason'], 'dutyOverrideReason');
      const identity = await c.services.identities.createIdentity(
        {
          name: str(body['name'], 'name'),
          kind,
          roles: roles as string[],
          ...(reason === undefined ? {} : { dutyOverrideReason: reason }),
        },
        c.principal.name,
      );
      c.changed({ kind: 'identity-created', target: `identity/${identity.name}`, details: { kind: identity.kind, roles: identity.roles.join(','), dutyOverride: reason ?? null } });
      return { status: 201, json: identityView(identity, []) };
    },
  },
  {
    method: 'GET',
    path: p('users/:u'),
    action: 'holdfast:GetIdentity',
    handle: async (c) => ({ json: identityView(c.services.identities.getIdentity(param(c, 0)), c.services.identities.listAccessKeys(param(c, 0))) }),
  },
  {
    method: 'DELETE',
    path: p('users/:u'),
    action: 'holdfast:DeleteIdentity',
    handle: async (c) => {
      notSelf(c, param(c, 0));
      const { deletedKeys } = await c.services.identities.deleteIdentity(param(c, 0));
      c.changed({ kind: 'identity-deleted', target: `identity/${param(c, 0)}`, details: { deletedKeys: deletedKeys.join(',') } });
      return { json: { deleted: param(c, 0), deletedKeys } };
    },
  },
  {
    method: 'PUT',
    path: p('users/:u/roles/:r'),
    action: 'holdfast:AttachRole',
    handle: (c) => editIdentity(c, (i) => ({ ...i, roles: [...new Set([...i.roles, param(c, 1)])] }), 'role-attached', { role: param(c, 1) }),
  },
  {
    method: 'DELETE',
    path: p('users/:u/roles/:r'),
    action: 'holdfast:DetachRole',
    handle: (c) =>
      editIdentity(
        c,
        (i) => {
          if (!i.roles.includes(param(c, 1))) throw s3errors.noSuchEntity(`Role "${param(c, 1)}" on identity "${i.name}"`);
          return { ...i, roles: i.roles.filter((r) => r !== param(c, 1)) };
        },
        'role-detached',
        { role: param(c, 1) },
      ),
  },
  {
    method: 'PUT',
    path: p('users/:u/policies/:p'),
    action: 'holdfast:PutIdentityPolicy',
    handle: (c) => {
      const text = JSON.stringify(c.body());
      parseIdentityPolicy(text, param(c, 1));
      return editIdentity(c, (i) => ({ ...i, policies: { ...i.policies, [param(c, 1)]: text } }), 'policy-put', { policy: param(c, 1) });
    },
  },
  {
    method: 'DELETE',
    path: p('users/:u/policies/:p'),
    action: 'holdfast:DeleteIdentityPolicy',
    handle: (c) =>
      editIdentity(
        c,
        (i) => {
          if (i.policies[param(c, 1)] === undefined) throw s3errors.noSuchEntity(`Policy "${param(c, 1)}" on identity "${i.name}"`);
          const { [param(c, 1)]: _, ...rest } = i.policies;
          return { ...i, policies: rest };
        },
        'policy-deleted',
        { policy: param(c, 1) },
      ),
  },
  {
    method: 'PUT',
    path: p('users/:u/status'),
    action: 'holdfast:UpdateIdentity',
    handle: (c) => {
      const body = objectBody(c);
      onlyFields(body, ['disabled']);
      if (typeof body['disabled'] !== 'boolean') throw s3errors.invalidArgument('"disabled" must be true or false.', 'disabled');
      const disabled = body['disabled'];
      return editIdentity(c, (i) => ({ ...i, disabled }), disabled ? 'identity-disabled' : 'identity-enabled', { disabled });
    },
  },
  {
    method: 'PUT',
    path: p('users/:u/duty-override'),
    action: 'holdfast:PutDutyOverride',
    handle: (c) => {
      const body = objectBody(c);
      onlyFields(body, ['reason']);
      const reason = str(body['reason'], 'reason');
      return editIdentity(c, (i) => ({ ...i, dutyOverride: { reason, grantedBy: c.principal.name, atMs: c.services.nowMs() } }), 'duty-override-set', { reason });
    },
  },
  {
    method: 'DELETE',
    path: p('users/:u/duty-override'),
    action: 'holdfast:PutDutyOverride',
    handle: (c) =>
      editIdentity(
        c,
        (i) => {
          const { dutyOverride: _, ...rest } = i;
          return rest;
        },
        'duty-override-removed',
        {},
      ),
  },
  {
    method: 'POST',
    path: p('users/:u/simulate'),
    action: 'holdfast:SimulatePolicy',
    handle: async (c) => {
      const body = objectBody(c);
      onlyFields(body, ['action', 'resource', 'context']);
      const action = str(body['action'], 'action');
      const resource = str(body['resource'], 'resource');
      const context = new Map<string, string>();
      const given = body['context'] ?? {};
      if (typeof given !== 'object' || given === null || Array.isArray(given)) throw s3errors.invalidArgument('"context" must be an object of condition keys to strings.', 'context');
      for (const [key, value] of Object.entries(given)) {
        if (typeof value !== 'string') throw s3errors.invalidArgument(`Condition key ${key} must be a string.`, 'context');
        context.set(key, value);
      }
      // `bucket/key`, `bucket`, or an ARN; the S3 ARN form is turned into bucket/key.
      const path = resource.startsWith('arn:aws:s3:::') ? resource.slice('arn:aws:s3:::'.length) : resource;
      const slash = path.indexOf('/');
      const target: AccessTarget = resource.startsWith('arn:holdfast:')
        ? { arn: resource }
        : slash < 0
          ? { bucket: path }
          : { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
      const decision = await c.services.simulate(c.services.identities.principalNamed(param(c, 0)), action, target, context);
      return { json: { identity: param(c, 0), action, resource, ...decision } };
    },
  },
  // ---- access keys ----
  {
    method: 'POST',
    path: p('users/:u/keys'),
    action: 'holdfast:CreateAccessKey',
    handle: async (c) => {
      const body = c.body() ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) throw s3errors.invalidRequest('The body must be a JSON object.');
      const fields = body as Record<string, unknown>;
      onlyFields(fields, ['expiresAt', 'description']);
      const expiresMs = optionalTime(fields['expiresAt'], 'expiresAt');
      const description = fields['description'] === undefined ? undefined : str(fields['description'], 'description');
      const created = await c.services.identities.createAccessKey(param(c, 0), {
        ...(expiresMs === undefined ? {} : { expiresMs }),
        ...(description === undefined ? {} : { description }),
      });
      c.changed({ kind: 'access-key-created', target: `identity/${param(c, 0)}`, details: { accessKeyId: created.key.accessKeyId } });
      // The one time the secret leaves the server: in this response, to the admin who asked.
      return { status: 201, json: { ...accessKeyView(created.key), secretAccessKey: created.secretAccessKey.reveal() } };
    },
  },
  {
    method: 'GET',
    path: p('keys'),
    action: 'holdfast:ListAccessKeys',
    handle: async (c) => ({ json: { keys: c.services.identities.listAccessKeys(c.query.get('user') ?? undefined).map(accessKeyView) } }),
  },
  {
    method: 'PATCH',
    path: p('keys/:k'),
    action: 'holdfast:UpdateAccessKey',
    handle: async (c) => {
      const body = objectBody(c);
      onlyFields(body, ['status', 'expiresAt']);
      const status = body['status'];
      if (status !== undefined && status !== 'active' && status !== 'inactive') throw s3errors.invalidArgument('"status" must be "active" or "inactive".', 'status');
      const expires = body['expiresAt'];
      const updated = await c.services.identities.updateAccessKey(param(c, 0), {
        ...(status === undefined ? {} : { status }),
        ...(expires === undefined ? {} : { expiresMs: expires === null ? null : (optionalTime(expires, 'expiresAt') ?? null) }),
      });
      c.changed({ kind: 'access-key-updated', target: `key/${param(c, 0)}`, details: { status: updated.status, expiresAt: updated.expiresMs === undefined ? null : new Date(updated.expiresMs).toISOString() } });
      return { json: accessKeyView(updated) };
    },
  },
  {
    method: 'POST',
    path: p('keys/:k/rotate'),
    action: 'holdfast:RotateAccessKey',
    handle: async (c) => {
      const grace = c.query.get('graceHours');
      if (grace !== null && !/^\d{1,4}$/.test(grace)) throw s3errors.invalidArgument('graceHours must be a whole number of hours.', 'graceHours', grace);
      const { old, created } = await c.services.identities.rotateAccessKey(param(c, 0), Number(grace ?? 0) * 3600_000);
      c.changed({ kind: 'access-key-created', target: `identity/${created.key.owner}`, details: { accessKeyId: created.key.accessKeyId, rotatedFrom: old.accessKeyId } });
      return { status: 201, json: { old: accessKeyView(old), created: { ...accessKeyView(created.key), secretAccessKey: created.secretAccessKey.reveal() } } };
    },
  },
  {
    method: 'DELETE',
    path: p('keys/:k'),
    action: 'holdfast:DeleteAccessKey',
    handle: async (c) => {
      const deleted = await c.services.identities.deleteAccessKey(param(c, 0));
      c.changed({ kind: 'access-key-deleted', target: `key/${param(c, 0)}`, details: { owner: deleted.owner } });
      return { json: { deleted: accessKeyView(deleted) } };
    },
  },
  // ---- two-person rule ----
  {
    method: 'GET',
    path: p('approvals'),
    action: 'holdfast:ListApprovals',
    handle: async (c) => ({ json: { changes: (await c.services.protection.approvals.list()).map(changeView) } }),
  },
  {
    method: 'POST',
    path: p('approvals/:id/approve'),
    action: 'holdfast:ApproveChange',
    handle: async (c) => {
      const decided = await c.services.protection.approvals.approve(param(c, 0), c.principal.name);
      c.changed({ kind: 'change-approved', target: `change/${decided.id}`, details: { requestedBy: decided.requestedBy, summary: decided.summary, bucket: decided.change.bucket } });
      return { json: changeView(decided) };
    },
  },
  {
    method: 'DELETE',
    path: p('approvals/:id'),
    action: 'holdfast:CancelChange',
    handle: async (c) => {
      const decided = await c.services.protection.approvals.cancel(param(c, 0), c.principal.name);
      c.changed({ kind: 'change-cancelled', target: `change/${decided.id}`, details: { summary: decided.summary } });
      return { json: changeView(decided) };
    },
  },
  // ---- audit log and alerts ----
  {
    method: 'GET',
    path: p('audit/verify'),
    action: 'holdfast:VerifyAuditLog',
    handle: async (c) => ({ json: await required(c.services.audit, 'audit log').verify() }),
  },
  {
    method: 'GET',
    path: p('audit/checkpoints'),
    action: 'holdfast:ReadAuditLog',
    handle: async (c) => ({ json: await required(c.services.audit, 'audit log').checkpoints() }),
  },
  {
    method: 'GET',
    path: p('audit/entries'),
    action: 'holdfast:ReadAuditLog',
    handle: async (c) => ({ lines: required(c.services.audit, 'audit log').exportLines(Object.fromEntries(c.query)) }),
  },
  {
    method: 'GET',
    path: p('alerts'),
    action: 'holdfast:GetAlertStatus',
    handle: async (c) => ({ json: await required(c.services.alerts, 'alerting').status() }),
  },
  {
    method: 'POST',
    path: p('alerts/test'),
    action: 'holdfast:SendTestAlert',
    handle: async (c) => ({ json: await required(c.services.alerts, 'alerting').test(c.principal.name) }),
  },
  // ---- backup jobs ----
  {
    method: 'GET',
    path: p('jobs'),
    action: 'holdfast:ListBackupJobs',
    handle: async (c) => ({ json: await required(c.services.jobs, 'backup jobs').list() }),
  },
  {
    method: 'POST',
    path: p('jobs/:job/runs'),
    action: 'holdfast:RunBackupJob',
    handle: async (c) => {
      return { status: 202, json: await required(c.services.jobs, 'backup jobs').start(param(c, 0)) };
    },
  },
  {
    method: 'GET',
    path: p('job-runs'),
    action: 'holdfast:ListBackupJobRuns',
    handle: async (c) => {
      const limit = c.query.get('limit') ?? '50';
      if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) throw s3errors.invalidArgument('limit must be a whole number from 1 to 9999.', 'limit', limit);
      return { json: await required(c.services.jobs, 'backup jobs').history(c.query.get('job') ?? undefined, Number(limit)) };
    },
  },
  {
    method: 'GET',
    path: p('job-runs/:id'),
    action: 'holdfast:GetBackupJobRun',
    handle: async (c) => ({ json: await required(c.services.jobs, 'backup jobs').run(param(c, 0)) }),
  },
  // ---- restore drills ----
  {
    method: 'POST',
    path: p('jobs/:job/drills'),
    action: 'holdfast:RunRestoreDrill',
    handle: async (c) => ({ status: 202, json: await required(c.services.jobs, 'backup jobs').startDrill(param(c, 0)) }),
  },
  {
    method: 'GET',
    path: p('drills/:id'),
    action: 'holdfast:GetRestoreDrill',
    handle: async (c) => ({ json: await required(c.services.jobs, 'backup jobs').drill(param(c, 0)) }),
  },
  // ---- integrity scrub ----
  {
    method: 'GET',
    path: p('scrub'),
    action: 'holdfast:GetIntegrityScrubStatus',
    handle: async (c) => {
      const limit = c.query.get('limit') ?? '10';
      if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) throw s3errors.invalidArgument('limit must be a whole number from 1 to 9999.', 'limit', limit);
      return { json: await required(c.services.scrub, 'the integrity scrub').status(Number(limit)) };
    },
  },
  {
    method: 'POST',
    path: p('scrub/passes'),
    action: 'holdfast:RunIntegrityScrub',
    handle: async (c) => {
      const body = c.body() ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) throw s3errors.invalidRequest('The body must be a JSON object.');
      onlyFields(body as Record<string, unknown>, ['fraction']);
      const fraction = (body as Record<string, unknown>)['fraction'];
      if (fraction !== undefined && !(typeof fraction === 'number' && fraction > 0 && fraction <= 1)) {
        throw s3errors.invalidArgument('"fraction" must be a number greater than 0 and at most 1.', 'fraction', JSON.stringify(fraction));
      }
      return { status: 202, json: await required(c.services.scrub, 'the integrity scrub').start(fraction) };
    },
  },
  {
    method: 'GET',
    path: p('scrub/passes/:id'),
    action: 'holdfast:GetIntegrityScrubPass',
    handle: async (c) => ({ json: await required(c.services.scrub, 'the integrity scrub').pass(param(c, 0)) }),
  },
  // ---- evidence records (compliance-locked in holdfast-system-evidence) ----
  {
    method: 'GET',
    path: p('evidence/:kind'),
    action: 'holdfast:ListEvidence',
    handle: async (c) => {
      const limit = c.query.get('limit') ?? '100';
      if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) throw s3errors.invalidArgument('limit must be a whole number from 1 to 9999.', 'limit', limit);
      const archive = required(c.services.evidence, 'the evidence archive');
      return { json: { records: await archive.list(evidenceName(param(c, 0), 'x').kind, { limit: Number(limit) }) } };
    },
  },
  {
    method: 'GET',
    path: p('evidence/:kind/:id'),
    action: 'holdfast:GetEvidence',
    handle: async (c) => {
      const { kind, id } = evidenceName(param(c, 0), param(c, 1));
      const record = await required(c.services.evidence, 'the evidence archive').get(kind, id);
      if (record === undefined) throw s3errors.noSuchKey(`${kind}/${id}`);
      return { json: record };
    },
  },
  ...CONFIG_GUARD_ROUTES,
];

function evidenceName(kind: string, id: string): { kind: string; id: string } {
  try {
    checkEvidenceName(kind, id);
  } catch (error) {
    throw s3errors.invalidArgument(error instanceof Error ? error.message : String(error), 'evidence', `${kind}/${id}`);
  }
  return { kind, id };
}

function required<T>(service: T | undefined, name: string): T {
  if (service === undefined) throw s3errors.notImplemented(`${name} is not enabled on this server`);
  return service;
}

/** Finds the route for a request; the `:x` segments become params. */
export function matchAdminRoute(method: string, segments: readonly string[]): { route: AdminRoute; params: string[] } | undefined {
  for (const route of ADMIN_ROUTES) {
    if (route.method !== method || route.path.length !== segments.length) continue;
    const params: string[] = [];
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const expected = route.path[i]!;
      const actual = segments[i]!;
      if (expected.startsWith(':')) {
        if (actual === '') ok = false;
        params.push(actual);
      } else if (expected !== actual) ok = false;
    }
    if (ok) return { route, params };
  }
  return undefined;
}

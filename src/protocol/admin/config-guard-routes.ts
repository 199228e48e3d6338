import { ConfigInputError, parseConfigCollection } from '../../domain/config-guard/config-collection-input.js';
import type { ConfigGuard } from '../../domain/config-guard/config-guard.js';
import type { Baseline, ChangeRequestRecord, DriftCheck, ReviewSignOff } from '../../domain/config-guard/config-guard-records.js';
import { renderBaselinePage } from '../../domain/config-guard/baseline-page.js';
import { parseExpectedChanges } from '../../domain/config-guard/expected-changes.js';
import type { ReviewStanding } from '../../domain/config-guard/review-calendar.js';
import { s3errors } from '../../domain/errors.js';
import type { AdminCall, AdminRoute } from './admin-routes.js';

/**
 * Baselines, drift, change requests and reviews (issue 8) under the admin prefix. Reads are
 * `holdfast:Get*` / `holdfast:List*` (the auditor role has them); everything that decides or
 * records is admin-only, and lands in the audit log through `changed`.
 */

/** A configuration collection of a large estate is far bigger than any other admin body. */
const COLLECTION_BODY_BYTES = 16 * 1024 * 1024;
const TEXT_LIMIT = 4000;

const p = (path: string): string[] => path.split('/');

function guard(call: AdminCall): ConfigGuard {
  const service = call.services.configGuard;
  if (service === undefined) throw s3errors.notImplemented('the configuration guard is not enabled on this server');
  return service;
}

function objectBody(call: AdminCall, allowed: readonly string[]): Record<string, unknown> {
  const body = call.body() ?? {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw s3errors.invalidRequest('The body must be a JSON object.');
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw s3errors.invalidRequest(`Unknown field "${key}"; expected ${allowed.join(', ')}.`);
  return body as Record<string, unknown>;
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > TEXT_LIMIT) throw s3errors.invalidArgument(`"${field}" must be text of at most ${TEXT_LIMIT} characters.`, field);
  return value;
}

function requiredText(value: unknown, field: string): string {
  const text = optionalText(value, field);
  if (text === undefined || text.trim() === '') throw s3errors.invalidArgument(`"${field}" must be a non-empty string.`, field);
  return text;
}

function limitOf(call: AdminCall, fallback: number): number {
  const limit = call.query.get('limit') ?? String(fallback);
  if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) throw s3errors.invalidArgument('limit must be a whole number from 1 to 9999.', 'limit', limit);
  return Number(limit);
}

/** Collections and change files are checked by the domain; their errors name the JSON path. */
function parsed<T>(parse: () => T, field: string): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ConfigInputError) throw s3errors.invalidArgument(error.message, field);
    throw error;
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function baselineSummary(b: Baseline) {
  return {
    id: b.id,
    status: b.status,
    proposedBy: b.proposedBy,
    proposedAt: iso(b.proposedMs),
    origin: b.origin,
    itemCount: b.itemCount,
    digest: b.digest,
    collectedAt: b.collectedAt,
    decidedBy: b.decision?.by ?? null,
    decidedAt: iso(b.decision?.atMs),
    comment: b.decision?.comment ?? null,
    supersededBy: b.supersededBy ?? null,
    evidence: b.evidence ?? null,
  };
}

function driftView(check: DriftCheck, withItems: boolean) {
  return {
    id: check.id,
    checkedAt: iso(check.checkedMs),
    checkedBy: check.checkedBy,
    baselineId: check.baselineId,
    collectedAt: check.collectedAt,
    itemCount: check.itemCount,
    digest: check.digest,
    summary: check.summary,
    ...(withItems
      ? { items: check.items.map(({ key: _, firstSeenMs, coveredBy, ...rest }) => ({ ...rest, firstSeenAt: iso(firstSeenMs), status: coveredBy === undefined ? 'unexplained' : 'approved', coveredBy: coveredBy ?? null })) }
      : {}),
  };
}

function changeView(c: ChangeRequestRecord) {
  return {
    ...c,
    baselineId: c.baselineId ?? null,
    diff: c.diff === undefined ? null : c.diff.map(({ key: _, ...rest }) => rest),
    proposedAt: iso(c.proposedMs),
    reviews: c.reviews.map((r) => ({ by: r.by, at: iso(r.atMs), decision: r.decision, comment: r.comment ?? null })),
    applied: c.applied === undefined ? null : { by: c.applied.by, at: iso(c.applied.atMs), baselineId: c.applied.baselineId, explainedDrift: c.applied.explainedDrift },
  };
}

function standingView(s: ReviewStanding) {
  return {
    component: s.component,
    status: s.status,
    frequencyMonths: s.frequencyMonths ?? null,
    dueAt: iso(s.dueMs),
    lastReview: s.anchor === undefined ? null : { kind: s.anchor.kind, at: iso(s.anchor.atMs), by: s.anchor.by },
  };
}

function signOffView(s: ReviewSignOff) {
  return { id: s.id, component: s.component, signedBy: s.signedBy, signedAt: iso(s.signedMs), notes: s.notes, baselineId: s.baselineId ?? null, evidence: s.evidence ?? null };
}

export const CONFIG_GUARD_ROUTES: readonly AdminRoute[] = [
  // ---- baselines ----
  { method: 'GET', path: p('config/baselines'), action: 'holdfast:ListConfigBaselines', handle: async (c) => ({ json: { baselines: (await guard(c).listBaselines(limitOf(c, 50))).map(baselineSummary) } }) },
  {
    method: 'POST',
    path: p('config/baselines'),
    action: 'holdfast:CaptureConfigBaseline',
    maxBodyBytes: COLLECTION_BODY_BYTES,
    handle: async (c) => {
      const collection = parsed(() => parseConfigCollection(c.body()), 'collection');
      const baseline = await guard(c).captureBaseline(collection, c.principal.name);
      c.changed({ kind: 'config-baseline-proposed', target: `config-baseline/${baseline.id}`, details: { items: baseline.itemCount, digest: baseline.digest } });
      return { status: 201, json: baselineSummary(baseline) };
    },
  },
  {
    method: 'GET',
    path: p('config/baselines/:id'),
    action: 'holdfast:GetConfigBaseline',
    handle: async (c) => {
      const baseline = await guard(c).getBaseline(c.params[0]!);
      return { json: { ...baselineSummary(baseline), inputs: baseline.inputs, items: baseline.items } };
    },
  },
  ...(['approve', 'reject'] as const).map(
    (decision): AdminRoute => ({
      method: 'POST',
      path: p(`config/baselines/:id/${decision}`),
      action: decision === 'approve' ? 'holdfast:ApproveConfigBaseline' : 'holdfast:RejectConfigBaseline',
      handle: async (c) => {
        const comment = optionalText(objectBody(c, ['comment'])['comment'], 'comment');
        const id = c.params[0]!;
        const decided = decision === 'approve' ? await guard(c).approveBaseline(id, c.principal.name, comment) : await guard(c).rejectBaseline(id, c.principal.name, comment);
        c.changed({ kind: `config-baseline-${decision === 'approve' ? 'approved' : 'rejected'}`, target: `config-baseline/${id}`, details: { proposedBy: decided.proposedBy, digest: decided.digest, evidence: decided.evidence?.location ?? null } });
        return { json: baselineSummary(decided) };
      },
    }),
  ),
  {
    method: 'GET',
    path: p('config/baselines/:id/page'),
    action: 'holdfast:GetConfigBaselinePage',
    handle: async (c) => {
      const format = c.query.get('format') ?? 'md';
      if (format !== 'md' && format !== 'html') throw s3errors.invalidArgument('format must be md or html.', 'format', format);
      const baseline = await guard(c).getBaseline(c.params[0]!);
      if (baseline.status !== 'approved' && baseline.status !== 'superseded') throw s3errors.invalidRequest(`Baseline ${baseline.id} is ${baseline.status}; the settings page documents approved baselines only.`);
      return { json: { baselineId: baseline.id, format, content: renderBaselinePage(baseline, format) } };
    },
  },
  // ---- drift ----
  {
    method: 'POST',
    path: p('config/drift-checks'),
    action: 'holdfast:CheckConfigDrift',
    maxBodyBytes: COLLECTION_BODY_BYTES,
    handle: async (c) => {
      const collection = parsed(() => parseConfigCollection(c.body()), 'collection');
      const check = await guard(c).checkDrift(collection, c.principal.name);
      c.changed({ kind: 'config-drift-checked', target: `config-drift-check/${check.id}`, details: { baselineId: check.baselineId, ...check.summary } });
      return { status: 201, json: driftView(check, true) };
    },
  },
  {
    method: 'GET',
    path: p('config/drift-checks'),
    action: 'holdfast:ListConfigDriftChecks',
    handle: async (c) => ({ json: { checks: (await guard(c).driftHistory(limitOf(c, 20))).map((check) => driftView(check, c.query.get('items') === 'true')) } }),
  },
  // ---- change requests ----
  {
    method: 'POST',
    path: p('config/changes'),
    action: 'holdfast:ProposeConfigChange',
    maxBodyBytes: COLLECTION_BODY_BYTES,
    handle: async (c) => {
      const body = objectBody(c, ['title', 'description', 'risk', 'expected']);
      const risk = body['risk'];
      if (risk !== 'low' && risk !== 'medium' && risk !== 'high') throw s3errors.invalidArgument('"risk" must be low, medium or high.', 'risk', JSON.stringify(risk));
      const expected = parsed(() => parseExpectedChanges(body['expected']), 'expected');
      const change = await guard(c).proposeChange({ title: requiredText(body['title'], 'title'), description: optionalText(body['description'], 'description') ?? '', risk, expected }, c.principal.name);
      c.changed({ kind: 'config-change-proposed', target: `config-change/${change.id}`, details: { title: change.title, risk, resources: expected.length } });
      return { status: 201, json: changeView(change) };
    },
  },
  { method: 'GET', path: p('config/changes'), action: 'holdfast:ListConfigChanges', handle: async (c) => ({ json: { changes: (await guard(c).listChanges(limitOf(c, 50))).map(changeView) } }) },
  { method: 'GET', path: p('config/changes/:id'), action: 'holdfast:GetConfigChange', handle: async (c) => ({ json: changeView(await guard(c).getChange(c.params[0]!)) }) },
  {
    method: 'POST',
    path: p('config/changes/:id/reviews'),
    action: 'holdfast:ReviewConfigChange',
    handle: async (c) => {
      const body = objectBody(c, ['decision', 'comment']);
      const decision = body['decision'];
      if (decision !== 'approve' && decision !== 'reject') throw s3errors.invalidArgument('"decision" must be approve or reject.', 'decision', JSON.stringify(decision));
      const comment = requiredText(body['comment'], 'comment');
      const change = await guard(c).reviewChange(c.params[0]!, c.principal.name, decision, comment);
      c.changed({ kind: `config-change-${decision === 'approve' ? 'approved' : 'rejected'}`, target: `config-change/${change.id}`, details: { proposedBy: change.proposedBy, title: change.title, comment } });
      return { json: changeView(change) };
    },
  },
  {
    method: 'POST',
    path: p('config/changes/:id/apply'),
    action: 'holdfast:ApplyConfigChange',
    handle: async (c) => {
      const { change, baseline } = await guard(c).applyChange(c.params[0]!, c.principal.name);
      c.changed({ kind: 'config-change-applied', target: `config-change/${change.id}`, details: { baselineId: baseline.id, explainedDrift: change.applied?.explainedDrift.length ?? 0, evidence: baseline.evidence?.location ?? null } });
      return { json: { change: changeView(change), baseline: baselineSummary(baseline) } };
    },
  },
  // ---- reviews ----
  { method: 'GET', path: p('config/reviews'), action: 'holdfast:ListConfigReviews', handle: async (c) => ({ json: { reviews: (await guard(c).reviewsDue()).map(standingView) } }) },
  {
    method: 'POST',
    path: p('config/reviews/:component/sign-off'),
    action: 'holdfast:SignOffConfigReview',
    handle: async (c) => {
      const notes = requiredText(objectBody(c, ['notes'])['notes'], 'notes');
      const signOff = await guard(c).signOff(c.params[0]!, c.principal.name, notes);
      c.changed({ kind: 'config-review-signed-off', target: `config-review/${signOff.component}`, details: { id: signOff.id, notes: notes.slice(0, 500), evidence: signOff.evidence?.location ?? null } });
      return { status: 201, json: signOffView(signOff) };
    },
  },
];

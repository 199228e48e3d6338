/**
 * The parts of an OSV record (https://ossf.github.io/osv-schema/) that matching and reporting use,
 * read defensively: a database export holds hundreds of thousands of records from many sources,
 * so a malformed field drops that field (or that affected entry), and only a record without an
 * `id` or `modified` is refused.
 */
export interface OsvEvent {
  readonly introduced?: string;
  readonly fixed?: string;
  readonly last_affected?: string;
  readonly limit?: string;
}

export interface OsvRange {
  readonly type: string;
  readonly events: readonly OsvEvent[];
}

export interface OsvSeverityScore {
  readonly type: string;
  readonly score: string;
}

export interface OsvAffected {
  readonly ecosystem: string;
  readonly name: string;
  readonly ranges: readonly OsvRange[];
  readonly versions: readonly string[];
  readonly severity: readonly OsvSeverityScore[];
  /** `ecosystem_specific.severity` (RustSec, Ubuntu's urgency) or `database_specific.severity`. */
  readonly labelledSeverity?: string;
}

export interface OsvVulnerability {
  readonly id: string;
  readonly modified: string;
  readonly published?: string;
  readonly withdrawn?: string;
  readonly summary?: string;
  readonly aliases: readonly string[];
  readonly severity: readonly OsvSeverityScore[];
  /** `database_specific.severity`, e.g. GitHub's LOW / MODERATE / HIGH / CRITICAL. */
  readonly databaseSeverity?: string;
  readonly affected: readonly OsvAffected[];
  /** The first ADVISORY reference, else the first reference. */
  readonly advisoryUrl?: string;
}

export class OsvFormatError extends Error {}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function severities(value: unknown): OsvSeverityScore[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).flatMap((item) => (typeof item.type === 'string' && typeof item.score === 'string' ? [{ type: item.type, score: item.score }] : []));
}

const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

function events(value: unknown): OsvEvent[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).flatMap((event) => {
    // The schema allows exactly one kind per event object.
    const kinds = EVENT_KINDS.filter((kind) => typeof event[kind] === 'string');
    return kinds.length === 1 ? [{ [kinds[0]!]: event[kinds[0]!] as string }] : [];
  });
}

function severityLabel(value: unknown): string | undefined {
  return isObject(value) ? optionalString(value.severity) : undefined;
}

function affectedEntries(value: unknown): OsvAffected[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).flatMap((item) => {
    const pkg = item.package;
    if (!isObject(pkg) || typeof pkg.ecosystem !== 'string' || typeof pkg.name !== 'string' || pkg.name === '') return [];
    const ranges = Array.isArray(item.ranges) ? item.ranges.filter(isObject).flatMap((range) => (typeof range.type === 'string' ? [{ type: range.type, events: events(range.events) }] : [])) : [];
    const labelledSeverity = severityLabel(item.ecosystem_specific) ?? severityLabel(item.database_specific);
    return [{ ecosystem: pkg.ecosystem, name: pkg.name, ranges, versions: strings(item.versions), severity: severities(item.severity), ...(labelledSeverity === undefined ? {} : { labelledSeverity }) }];
  });
}

function advisoryUrl(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  const references = value.filter(isObject).filter((reference) => typeof reference.url === 'string');
  const advisory = references.find((reference) => reference.type === 'ADVISORY') ?? references[0];
  return advisory === undefined ? undefined : (advisory.url as string);
}

export function parseOsvRecord(value: unknown, where: string): OsvVulnerability {
  if (!isObject(value)) throw new OsvFormatError(`${where} is not an OSV record (a JSON object).`);
  const id = optionalString(value.id);
  const modified = optionalString(value.modified);
  if (id === undefined || modified === undefined) throw new OsvFormatError(`${where} has no "${id === undefined ? 'id' : 'modified'}"; OSV requires it.`);
  if (Number.isNaN(Date.parse(modified))) throw new OsvFormatError(`${where} (${id}): "modified" is not an RFC 3339 time: "${modified}".`);
  const record: OsvVulnerability = {
    id,
    modified,
    aliases: strings(value.aliases),
    severity: severities(value.severity),
    affected: affectedEntries(value.affected),
  };
  const optional = {
    published: optionalString(value.published),
    withdrawn: optionalString(value.withdrawn),
    summary: optionalString(value.summary) ?? optionalString(typeof value.details === 'string' ? value.details.split('\n')[0] : undefined),
    databaseSeverity: severityLabel(value.database_specific),
    advisoryUrl: advisoryUrl(value.references),
  };
  return { ...record, ...Object.fromEntries(Object.entries(optional).filter(([, field]) => field !== undefined)) };
}

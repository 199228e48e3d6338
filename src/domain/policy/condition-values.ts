/**
 * Text to number, instant and boolean, for the Numeric, Date and Bool condition operators. The
 * same parsers read policy values (at parse time, where a failure is a PolicyError) and request
 * context values (per request, where a value that does not parse simply does not match).
 */

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal or integer ("Numeric condition operators ... integer or decimal value"); NaN otherwise. */
export function parseDecimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}

const EPOCH_SECONDS = /^[+-]?\d+(\.\d+)?$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Milliseconds since the epoch for an ISO 8601 date or date-time ("2033-03-01",
 * "2033-03-01T12:00:00Z", "...+02:00") or UNIX epoch seconds ("Date condition operators":
 * "you must use one of the W3C implementations of the ISO 8601 date formats or use epoch (UNIX)
 * time"); NaN otherwise. A date-time without a zone is UTC, never the server's local time, so a
 * decision cannot depend on the machine's time zone.
 */
export function parseDateMs(text: string): number {
  if (EPOCH_SECONDS.test(text)) return Number(text) * 1000;
  const m = ISO_8601.exec(text);
  if (m === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) + fraction;
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return Number.NaN;
  return utc - zoneOffsetMs(m[8]);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

/** "true" / "false" in any case (IAM compares Bool values case-insensitively); undefined otherwise. */
export function parseBoolean(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

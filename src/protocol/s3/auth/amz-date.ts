/**
 * The two time formats SigV4 uses: the ISO 8601 basic timestamp of `x-amz-date` / `X-Amz-Date`
 * (`20130524T000000Z`) and the `yyyyMMdd` date of the credential scope.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Milliseconds since the epoch, or undefined if `text` is not a real `yyyyMMdd'T'HHmmss'Z'` instant. */
export function parseAmzDate(text: string): number | undefined {
  const m = AMZ_DATE.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 20130231 over into March; a signer never produces that, so reject it.
  return formatAmzDate(ms) === text ? ms : undefined;
}

/** `20130524T000000Z` for the given instant (sub-second part dropped). */
export function formatAmzDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/** `2013-05-24T00:00:00Z`, the form AWS uses for `<ServerTime>` and `<Expires>` in error bodies. */
export function formatIsoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

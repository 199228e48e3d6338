/**
 * The two time formats SigV4 uses: the ISO 8601 basic timestamp of `x-amz-date` / `X-Amz-Date`
 * (`20130524T000000Z`) and the `yyyyMMdd` date of the credential scope.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */

/** Milliseconds since the epoch, or undefined if `text` is not a real `yyyyMMdd'T'HHmmss'Z'` instant. */
export function parseAmzDate(text: string): number | undefined {
  // Read field by field: every request carries one, and a regex plus a format round trip cost more.
  if (text.length !== 16 || text.charCodeAt(8) !== 0x54 || text.charCodeAt(15) !== 0x5a) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 4, 2);
  const day = digits(text, 6, 2);
  const hour = digits(text, 9, 2);
  const minute = digits(text, 11, 2);
  const second = digits(text, 13, 2);
  // Date.UTC reads years 0-99 as 1900-1999 and rolls 20130231 over into March; a signer never
  // produces either, so only a date that names itself exactly is accepted.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}

/** The decimal number in text[start, start + length), or -1 if any of it is not a digit. */
function digits(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
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

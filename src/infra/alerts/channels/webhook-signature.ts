import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, in the scheme Stripe documents for its webhooks ("Verify webhook
 * signatures with official libraries" → "manual verification"):
 *
 *   x-holdfast-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * How a receiver verifies a request:
 * 1. read the raw body bytes as received (before any JSON parsing);
 * 2. split the header on "," into t= and v1= (ignore other keys: a later scheme may add v2=);
 * 3. compute HMAC-SHA256 with the shared secret over the ASCII bytes of t, a ".", then the
 *    raw body; hex-encode it;
 * 4. compare with v1 in constant time;
 * 5. reject if |now − t| exceeds a tolerance (5 minutes here), so a captured request cannot be
 *    replayed later; to refuse replays within the tolerance too, remember the alert ids seen
 *    (`x-holdfast-alert-id`, also inside the body) — a redelivery carries the same id.
 * `verifyWebhookSignature` below does steps 2–5.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'x-holdfast-signature';
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export function signWebhookBody(secret: string, body: string | Uint8Array, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, body)}`;
}

export interface WebhookSignatureCheck {
  /** The header value as received (undefined or an array when the header was missing or repeated). */
  readonly header: string | readonly string[] | undefined;
  /** The raw request body. */
  readonly body: string | Uint8Array;
  readonly secret: string;
  /** The receiver's current time. */
  readonly nowMs: number;
  readonly toleranceSeconds?: number;
}

/** True only for a well-formed header whose v1 matches and whose timestamp is within tolerance. */
export function verifyWebhookSignature(check: WebhookSignatureCheck): boolean {
  if (typeof check.header !== 'string') return false;
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of check.header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq < 0) return false;
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === undefined || signatures.length === 0) return false;
  const tolerance = check.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(check.nowMs / 1000 - t) > tolerance) return false;
  const expected = Buffer.from(hmacHex(check.secret, t, check.body), 'hex');
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}

function hmacHex(secret: string, unixSeconds: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
}

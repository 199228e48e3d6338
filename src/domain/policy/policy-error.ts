/**
 * A policy document that does not validate. The message names the statement (index and Sid) and
 * the field at fault and says what is allowed there; the S3 protocol layer turns it into
 * `MalformedPolicy` (400). Policies hold no secrets, so quoting the offending value is safe.
 */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** Quotes a value from the document for a message, cut short so a huge value cannot flood a log. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

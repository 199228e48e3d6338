import type { QueryParameter } from './auth/uri-encoding.js';

/** What the S3 edge reads of a request's query. URLSearchParams has this shape too. */
export interface QueryParameters {
  /** The first value of `name`, or null when it is absent (`?name` has the value ''). */
  get(name: string): string | null;
  has(name: string): boolean;
}

/**
 * A request's query, decoded once — by parseQuery, which SigV4 verification needs anyway — and
 * read by name. Answers as URLSearchParams does for the same text (the first of repeated names,
 * `+` as a space), without parsing it a second time on every request.
 */
export class DecodedQuery implements QueryParameters {
  readonly #first = new Map<string, string>();

  constructor(params: readonly QueryParameter[]) {
    for (const param of params) if (!this.#first.has(param.name)) this.#first.set(param.name, param.value);
  }

  get(name: string): string | null {
    return this.#first.get(name) ?? null;
  }

  has(name: string): boolean {
    return this.#first.has(name);
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { S3Error, s3errors } from '../../../domain/errors.js';
import type { Guard, WriteDeadline } from '../../../domain/ports.js';

/**
 * Runs work in one transaction on one pooled connection, and is the one place where
 * PostgreSQL's errors become S3Errors.
 */

/** Carries an error thrown by a caller's guard through the transaction, to be rethrown unchanged. */
class GuardRefusal extends Error {
  constructor(readonly error: unknown) {
    super('guard refused');
  }
}

/** Calls a guard (a synchronous pure function) so that what it throws is passed through untranslated. */
export function checkGuard<T>(guard: Guard<T> | undefined, current: T): void {
  if (guard === undefined) return;
  try {
    guard(current);
  } catch (e) {
    throw new GuardRefusal(e);
  }
}

/** Same, for `updateVersionLock`'s change function, which returns a value. */
export function applyChange<T, R>(change: (current: T) => R, current: T): R {
  try {
    return change(current);
  } catch (e) {
    throw new GuardRefusal(e);
  }
}

/**
 * Transactions run at READ COMMITTED and take explicit row and advisory locks, so conflicts wait
 * rather than fail. Deadlocks (40P01) and serialization failures (40001) can still occur (e.g. a
 * lock order an operator's tooling introduces); PostgreSQL rolls the whole transaction back, so
 * it is safe to run it again (PostgreSQL docs, "Serialization Failure Handling").
 */
const retryableStates = new Set(['40001', '40P01']);
const maxAttempts = 5;

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, deadline?: WriteDeadline): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw translate(e);
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      // Last, so that no wait inside the transaction (a lock, a slow statement) can let it pass unseen.
      if (deadline?.passed() === true) throw s3errors.requestTimeout();
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (e) {
      const rolledBack = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      // A connection whose rollback failed is in an unknown state: destroy it rather than reuse.
      client.release(rolledBack ? undefined : true);
      if (e instanceof GuardRefusal) throw e.error;
      if (e instanceof S3Error) throw e;
      if (e instanceof pg.DatabaseError && retryableStates.has(e.code ?? '') && attempt < maxAttempts) {
        await sleep(Math.random() * 10 * 2 ** attempt);
        continue;
      }
      throw translate(e);
    }
  }
}

/** Reads outside a transaction (one statement sees one snapshot). */
export async function query<R extends pg.QueryResultRow>(pool: pg.Pool, text: string, values: unknown[]): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values)).rows;
  } catch (e) {
    throw translate(e);
  }
}

/**
 * SQLSTATE classes (PostgreSQL docs, Appendix A): 08 connection exception, 53 insufficient
 * resources, 57P01-57P03 shutdown / cannot connect now, 40 transaction rollback (retries used
 * up) are conditions a client may retry: ServiceUnavailable. 22021 is a key PostgreSQL cannot
 * store (a NUL character). Anything else is a server fault. The cause is kept for the log;
 * server-fault messages never reach a client.
 */
function translate(e: unknown): S3Error {
  if (e instanceof S3Error) return e;
  if (e instanceof pg.DatabaseError) {
    const code = e.code ?? '';
    if (code === '22021' || code === '22P05') {
      return withCause(s3errors.invalidArgument('The object key or a value contains a character that cannot be stored.'), e);
    }
    // 57014: cancelled by statement_timeout; 25P03: ended by idle_in_transaction_session_timeout.
    if (code.startsWith('08') || code.startsWith('53') || code.startsWith('40') || /^57P0[123]$/.test(code) || code === '57014' || code === '25P03') {
      return withCause(s3errors.serviceUnavailable(), e);
    }
    return s3errors.internal(e);
  }
  // Connection refused, reset or timed out before PostgreSQL answered.
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    return withCause(s3errors.serviceUnavailable(), e);
  }
  // No pooled connection within connectionTimeoutMillis, or no answer within query_timeout (pg's own messages, without a code).
  if (e instanceof Error && /^(timeout exceeded when trying to connect|Query read timeout)$/.test(e.message)) {
    return withCause(s3errors.serviceUnavailable(), e);
  }
  return s3errors.internal(e);
}

function withCause(error: S3Error, cause: unknown): S3Error {
  (error as { cause?: unknown }).cause = cause;
  return error;
}

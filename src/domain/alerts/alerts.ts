import { randomUUID } from 'node:crypto';
import type { Clock } from '../../infra/clock.js';
import type { AlertChannel } from './alert-channel.js';
import type { AlertQueueStats, AlertQueueStore, PendingDelivery } from './alert-queue-store.js';
import { alertFingerprint, decideQueueing } from './coalescing.js';
import { DEFAULT_RETRY_BACKOFF, type RetryBackoff, retryDelayMs } from './retry-backoff.js';
import type { NewSecurityAlert, SecurityAlert } from './security-alert.js';
import { securityAlerts } from './security-alerts.js';

export interface AlertsOptions {
  readonly store: AlertQueueStore;
  readonly channels: readonly AlertChannel[];
  readonly clock: Clock;
  /** Identical alerts within this window are coalesced (default 10 min; 0 turns it off). See coalescing.ts. */
  readonly coalesceWindowMs?: number;
  /** Retry delays (default 5 s doubling to 15 min, with jitter). */
  readonly retry?: RetryBackoff;
  /** A channel counts as failing after this many consecutive failures (default 5)... */
  readonly failingAfterAttempts?: number;
  /** ...or once a delivery has waited this long (default 15 min). */
  readonly failingAfterMs?: number;
  /** Deliveries read per pass (default 50). */
  readonly batchSize?: number;
  /** Longest the dispatcher sleeps before looking again (default 60 s); bounds the effect of a clock jump. */
  readonly maxIdleMs?: number;
  readonly random?: () => number;
  /** Hears about the dispatcher's own trouble (a store error); default: a process warning. */
  readonly onDispatchError?: (error: unknown) => void;
}

export interface RaiseResult {
  /** The alert that will carry this event: a new one, or the one it was coalesced into. */
  readonly alertId: string;
  /** queued: goes out now; held: goes out when the quiet period ends; coalesced: counted into `alertId`. */
  readonly outcome: 'queued' | 'held' | 'coalesced';
}

export interface AlertStats extends AlertQueueStats {
  /** Channels that crossed the failing threshold and have not delivered since. */
  readonly failingChannels: readonly string[];
}

/**
 * Raises security alerts and delivers them through every configured channel, durably.
 *
 * `raise` writes the alert and one delivery row per channel to the queue store and resolves
 * only once that is on disk; a dispatcher then delivers due rows. Delivery is at least once: a
 * crash between "receiver accepted" and "marked delivered" sends that alert again after the
 * restart, with the same id, so receivers can drop the duplicate.
 *
 * Failures: a failing channel cools down (exponential backoff with jitter, per channel, so a
 * dead receiver gets one probe per backoff step rather than one per queued alert) and its rows
 * stay pending. Once a channel crosses the failing threshold, ONE `alert-delivery-failing` alert
 * is raised through the other channels only — never through the failing one, so it cannot feed
 * itself — and retries go on. The stats expose pending rows, failed attempts and the failing
 * channels for metrics.
 */
export class Alerts {
  readonly #store: AlertQueueStore;
  readonly #channels: ReadonlyMap<string, AlertChannel>;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #retry: RetryBackoff;
  readonly #failingAfterAttempts: number;
  readonly #failingAfterMs: number;
  readonly #batchSize: number;
  readonly #maxIdleMs: number;
  readonly #random: () => number;
  readonly #onDispatchError: (error: unknown) => void;

  /** Consecutive failures per channel; reset by a success. */
  readonly #consecutiveFailures = new Map<string, number>();
  /** A channel is not tried again before this time. */
  readonly #coolingUntil = new Map<string, number>();
  readonly #failing = new Set<string>();

  #passes: Promise<unknown> = Promise.resolve();
  /**
   * Channels with deliveries in flight from the background loop: skipped by later passes until
   * they finish, so a receiver that hangs (an SMTP server that never greets, up to its timeout)
   * holds back only its own channel, never the log or the webhook.
   */
  readonly #busy = new Map<string, Promise<void>>();
  #loop: Promise<void> | undefined;
  #wakeRequested = false;
  #wakeSleeper: (() => void) | undefined;
  #closed = false;

  constructor(options: AlertsOptions) {
    this.#store = options.store;
    const channels = new Map<string, AlertChannel>();
    for (const channel of options.channels) {
      if (channels.has(channel.name)) throw new Error(`Two alert channels are named "${channel.name}"; names must be unique.`);
      channels.set(channel.name, channel);
    }
    this.#channels = channels;
    this.#clock = options.clock;
    this.#windowMs = options.coalesceWindowMs ?? 10 * 60_000;
    this.#retry = options.retry ?? DEFAULT_RETRY_BACKOFF;
    this.#failingAfterAttempts = options.failingAfterAttempts ?? 5;
    this.#failingAfterMs = options.failingAfterMs ?? 15 * 60_000;
    this.#batchSize = options.batchSize ?? 50;
    this.#maxIdleMs = options.maxIdleMs ?? 60_000;
    this.#random = options.random ?? Math.random;
    this.#onDispatchError = options.onDispatchError ?? ((error) => process.emitWarning(`alerts dispatcher: ${describe(error)}`));
  }

  /** Queues an alert for every channel; resolves once it is durable. */
  async raise(input: NewSecurityAlert): Promise<RaiseResult> {
    if (this.#closed) throw new Error('Alerts is closed; the alert was not queued.');
    return this.#raise(input, [...this.#channels.keys()]);
  }

  /**
   * Queues an alert for the named channels only (a backup job's alertRoutes). Unknown names are
   * ignored; if none is known the alert goes to every channel rather than nowhere.
   */
  async raiseTo(input: NewSecurityAlert, channels: readonly string[]): Promise<RaiseResult> {
    if (this.#closed) throw new Error('Alerts is closed; the alert was not queued.');
    const known = channels.filter((name) => this.#channels.has(name));
    return this.#raise(input, known.length === 0 ? [...this.#channels.keys()] : known);
  }

  async #raise(input: NewSecurityAlert, channels: readonly string[]): Promise<RaiseResult> {
    const atMs = this.#clock.nowMs();
    const alert: SecurityAlert = {
      id: randomUUID(),
      rule: input.rule,
      severity: input.severity,
      title: input.title,
      summary: input.summary,
      atMs,
      ...(input.subject === undefined ? {} : { subject: { ...input.subject } }),
      details: { ...input.details },
      occurrences: 1,
      lastAtMs: atMs,
    };
    const decision = await this.#store.enqueue(alertFingerprint(input), (latest) => decideQueueing(latest, alert, channels, this.#windowMs));
    this.#wake();
    if (decision.kind === 'add-occurrence') return { alertId: decision.alertId, outcome: 'coalesced' };
    return { alertId: decision.alert.id, outcome: decision.dueMs <= atMs ? 'queued' : 'held' };
  }

  /** Starts delivering in the background until `close`. */
  start(): void {
    if (this.#loop !== undefined || this.#closed) return;
    this.#loop = this.#run();
  }

  /**
   * One pass: delivers the due rows of every channel that is not cooling down. Resolves to the
   * number of rows read. Tests drive the queue with it; `start` calls it in a loop.
   */
  dispatchDue(): Promise<number> {
    return this.#queuePass(true);
  }

  #queuePass(waitForDeliveries: boolean): Promise<number> {
    const pass = this.#passes.then(() => this.#pass(waitForDeliveries));
    this.#passes = pass.catch(() => undefined);
    return pass;
  }

  async stats(): Promise<AlertStats> {
    const stats = await this.#store.stats(this.#clock.nowMs());
    return { ...stats, failingChannels: [...this.#failing].sort() };
  }

  /** Stops the dispatcher after the deliveries in flight finish. Does not close the store. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    await this.#loop;
    await this.#passes;
    await Promise.allSettled([...this.#busy.values()]);
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      let sleepMs = this.#maxIdleMs;
      try {
        const read = await this.#queuePass(false);
        if (read >= this.#batchSize) continue;
        sleepMs = await this.#untilNextWork();
      } catch (error) {
        this.#onDispatchError(error);
      }
      if (this.#wakeRequested) {
        this.#wakeRequested = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        timer.unref();
        this.#wakeSleeper = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeSleeper = undefined;
      this.#wakeRequested = false;
    }
  }

  #wake(): void {
    this.#wakeRequested = true;
    this.#wakeSleeper?.();
  }

  async #untilNextWork(): Promise<number> {
    const now = this.#clock.nowMs();
    const ready = this.#readyChannels(now);
    let next = ready.length === 0 ? undefined : await this.#store.nextDueMs(ready);
    for (const until of this.#coolingUntil.values()) if (until > now) next = Math.min(next ?? until, until);
    return next === undefined ? this.#maxIdleMs : Math.min(this.#maxIdleMs, Math.max(0, next - now));
  }

  #readyChannels(now: number): string[] {
    return [...this.#channels.keys()].filter((name) => !this.#busy.has(name) && (this.#coolingUntil.get(name) ?? -Infinity) <= now);
  }

  /**
   * Delivers the due rows of the ready channels, channels in parallel. `waitForDeliveries`
   * (dispatchDue) resolves once all are done; the background loop instead marks each channel
   * busy until its deliveries finish, and is woken when one does.
   */
  async #pass(waitForDeliveries: boolean): Promise<number> {
    const now = this.#clock.nowMs();
    const ready = this.#readyChannels(now);
    if (ready.length === 0) return 0;
    const rows = await this.#store.due(now, this.#batchSize, ready);
    const byChannel = new Map<string, PendingDelivery[]>();
    for (const row of rows) byChannel.set(row.channel, [...(byChannel.get(row.channel) ?? []), row]);
    // Channels in parallel; within a channel in order, stopping at its first failure.
    const deliveries = [...byChannel].map(([name, channelRows]) => {
      const channel = this.#channels.get(name)!;
      const delivering = (async () => {
        for (const row of channelRows) {
          if (this.#closed || !(await this.#deliver(channel, row))) break;
        }
      })();
      if (waitForDeliveries) return delivering;
      const tracked = delivering
        .catch((error: unknown) => this.#onDispatchError(error))
        .finally(() => {
          this.#busy.delete(name);
          this.#wake();
        });
      this.#busy.set(name, tracked);
      return tracked;
    });
    if (waitForDeliveries) await Promise.all(deliveries);
    return rows.length;
  }

  /** Delivers one row; true when it was accepted. */
  async #deliver(channel: AlertChannel, row: PendingDelivery): Promise<boolean> {
    try {
      await channel.deliver(row.alert);
    } catch (error) {
      await this.#recordFailure(channel.name, row, describe(error));
      return false;
    }
    await this.#store.markDelivered(row.alert.id, channel.name, this.#clock.nowMs());
    this.#consecutiveFailures.delete(channel.name);
    this.#coolingUntil.delete(channel.name);
    this.#failing.delete(channel.name);
    return true;
  }

  async #recordFailure(name: string, row: PendingDelivery, error: string): Promise<void> {
    const failures = (this.#consecutiveFailures.get(name) ?? 0) + 1;
    this.#consecutiveFailures.set(name, failures);
    const atMs = this.#clock.nowMs();
    const nextAttemptMs = atMs + retryDelayMs(failures, this.#retry, this.#random);
    this.#coolingUntil.set(name, nextAttemptMs);
    await this.#store.markFailed(row.alert.id, name, { atMs, nextAttemptMs, error });

    const failing = failures >= this.#failingAfterAttempts || atMs - row.firstDueMs >= this.#failingAfterMs;
    if (!failing || this.#failing.has(name)) return;
    this.#failing.add(name);
    const others = [...this.#channels.keys()].filter((other) => other !== name);
    await this.#raise(securityAlerts.alertDeliveryFailing({ channel: name, attempts: failures, failingSinceMs: row.firstDueMs, lastError: error }), others);
  }
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim() || 'unknown error';
}

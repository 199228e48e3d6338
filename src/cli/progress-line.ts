/**
 * Live progress of a long command on stderr: on a terminal one line rewritten in place (at most
 * five times a second); otherwise — a log, a CI job — a plain line every `logIntervalMs` (the
 * first after one interval), so the log shows that a long job is alive without a line per chunk
 * and a short one stays quiet. stdout stays free for the result
 * (and `--json`).
 */

export interface ProgressLineOptions {
  readonly write: (text: string) => void;
  readonly interactive: boolean;
  readonly nowMs?: () => number;
  readonly logIntervalMs?: number;
}

export class ProgressLine {
  readonly #write: (text: string) => void;
  readonly #interactive: boolean;
  readonly #nowMs: () => number;
  readonly #logIntervalMs: number;
  readonly #startedMs: number;
  #lastShownMs = -Infinity;
  #shown = false;
  #lastStep: string | undefined;

  constructor(
    readonly label: string,
    options: ProgressLineOptions,
  ) {
    this.#write = options.write;
    this.#interactive = options.interactive;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#logIntervalMs = options.logIntervalMs ?? 15_000;
    this.#startedMs = this.#nowMs();
    // In a log, a command that ends within the first interval prints no progress at all.
    if (!this.#interactive) this.#lastShownMs = this.#startedMs;
  }

  /** `bytes` done so far, of `totalBytes` when known. */
  update(bytes: number, totalBytes?: number, detail = ''): void {
    const now = this.#nowMs();
    if (now - this.#lastShownMs < (this.#interactive ? 200 : this.#logIntervalMs)) return;
    this.#lastShownMs = now;
    const text = `${this.label}: ${describeProgress(bytes, totalBytes, (now - this.#startedMs) / 1000)}${detail === '' ? '' : `, ${detail}`}`;
    this.#shown = true;
    this.#write(this.#interactive ? `\r\x1b[2K${text}` : `${text}\n`);
  }

  /**
   * What a long job is doing now, when that is all there is to show (a restore drill in the
   * server): on a terminal the line rewritten with the step and the time so far; in a log one
   * line per new step, none for the same step again.
   */
  step(text: string): void {
    const now = this.#nowMs();
    const line = `${this.label}: ${text}`;
    if (this.#interactive) {
      this.#write(`\r\x1b[2K${line} (${formatDuration((now - this.#startedMs) / 1000)})`);
      this.#shown = true;
    } else if (text !== this.#lastStep) {
      this.#write(`${line}\n`);
    }
    this.#lastStep = text;
  }

  /** Ends the live line (a newline after the last rewrite); nothing when nothing was shown. */
  done(): void {
    if (this.#shown && this.#interactive) this.#write('\n');
    this.#shown = false;
  }
}

export function describeProgress(bytes: number, totalBytes: number | undefined, elapsedSeconds: number): string {
  const rate = elapsedSeconds > 0 ? bytes / elapsedSeconds : 0;
  const parts = [totalBytes === undefined ? formatBytes(bytes) : `${formatBytes(bytes)} of ${formatBytes(totalBytes)} (${totalBytes === 0 ? 100 : Math.floor((100 * bytes) / totalBytes)}%)`];
  parts.push(`${formatBytes(rate)}/s`);
  if (totalBytes !== undefined && rate > 0 && bytes < totalBytes) parts.push(`ETA ${formatDuration((totalBytes - bytes) / rate)}`);
  return parts.join(', ');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

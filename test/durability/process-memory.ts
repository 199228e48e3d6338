// The resident memory of another process, read from /proc (Linux): what the kernel charges the
// server for, including buffers outside the V8 heap, which process.memoryUsage() in the test
// process could never see.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export const procAvailable = (): boolean => existsSync('/proc/self/status');

/** VmRSS of `pid` in bytes. Rejects if the process is gone. */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS at a fixed interval and keeps the peak. */
export class RssSampler {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #peak = 0;
  #samples = 0;
  #error: unknown;

  constructor(pid: number, intervalMs: number) {
    this.#pid = pid;
    this.#timer = setInterval(() => void this.sample(), intervalMs);
  }

  async sample(): Promise<number> {
    try {
      const rss = await residentBytes(this.#pid);
      this.#peak = Math.max(this.#peak, rss);
      this.#samples++;
      return rss;
    } catch (error) {
      this.#error ??= error;
      return 0;
    }
  }

  /** Stops sampling; rejects if a sample failed (the process vanished mid-measurement). */
  async stop(): Promise<{ peak: number; samples: number }> {
    clearInterval(this.#timer);
    await this.sample();
    if (this.#error !== undefined) throw new Error(`reading the RSS of pid ${this.#pid} failed`, { cause: this.#error });
    return { peak: this.#peak, samples: this.#samples };
  }
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

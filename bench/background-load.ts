import { readFile } from 'node:fs/promises';

/**
 * How much CPU processes other than the benchmark's own used while a column was measured. The
 * machine is shared (other suites, other engineers), and on 2 cores half a core of someone else's
 * work moves every number; the report shows it next to the results instead of hiding it.
 *
 * All CPU time is counted from /proc/stat; ours is the sum of /proc/PID/stat utime+stime of the
 * benchmark's processes (threads included). Disk traffic is not attributed: the journal's and the
 * page cache's delayed writes belong to no process.
 */
export class BackgroundLoadMeter {
  readonly #pids: readonly number[];
  readonly #startTotal: number;
  readonly #startOurs: number;
  readonly #startedAt: number;

  private constructor(pids: readonly number[], total: number, ours: number) {
    this.#pids = pids;
    this.#startTotal = total;
    this.#startOurs = ours;
    this.#startedAt = performance.now();
  }

  /** Starts counting; `pids` are the benchmark's processes alive for the whole window. */
  static async start(pids: readonly number[]): Promise<BackgroundLoadMeter> {
    return new BackgroundLoadMeter(pids, await busyTicks(), await ticksOf(pids));
  }

  /** Other processes' CPU use over the window, in cores (1 = one core busy the whole time). */
  async otherCores(): Promise<number | undefined> {
    const [total, ours] = await Promise.all([busyTicks(), ticksOf(this.#pids)]);
    const seconds = (performance.now() - this.#startedAt) / 1000;
    if (Number.isNaN(total) || seconds <= 0) return undefined;
    const other = total - this.#startTotal - (ours - this.#startOurs);
    return Math.max(0, other / CLOCK_TICKS_PER_SECOND / seconds);
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Busy ticks of all CPUs: user, nice, system, irq, softirq, steal (guest time is inside user). */
export async function busyTicks(): Promise<number> {
  try {
    const first = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = first.trim().split(/\s+/).map(Number);
    return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  } catch {
    return Number.NaN;
  }
}

export async function ticksOf(pids: readonly number[]): Promise<number> {
  const each = await Promise.all(
    pids.map(async (pid) => {
      try {
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[11]) + Number(fields[12]);
      } catch {
        return 0;
      }
    }),
  );
  return each.reduce((a, b) => a + b, 0);
}

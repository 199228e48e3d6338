import { readdir, readFile } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock } from '../clock.js';
import { formatFamilyHeader, formatSample, type MetricType } from './exposition.js';
import type { MetricsCollector } from './metric.js';

export interface ProcessCollectorOptions {
  /** Wall clock, for process_start_time_seconds. */
  readonly clock: Clock;
  /** How often the event loop delay is sampled. Default 10 ms. */
  readonly eventLoopResolutionMs?: number;
  /** Where this process's open descriptors are listed; absent outside Linux. */
  readonly procSelfDir?: string;
}

/**
 * The standard process metrics (names as in the Prometheus client libraries' process collectors,
 * so existing dashboards work) plus the Node event loop delay. Call `stop()` when the process
 * no longer serves scrapes, to end the event loop sampling.
 */
export class ProcessCollector implements MetricsCollector {
  readonly familyNames: readonly string[] = Object.freeze([
    'process_resident_memory_bytes',
    'process_cpu_seconds_total',
    'process_start_time_seconds',
    'process_open_fds',
    'process_max_fds',
    'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_max_seconds',
  ]);
  readonly #startTimeSeconds: number;
  readonly #procSelfDir: string;
  readonly #resolutionNs: number;
  readonly #eventLoopDelay: IntervalHistogram;

  constructor(options: ProcessCollectorOptions) {
    // The wall time now, less how long the process has run: when it started, in Unix seconds.
    this.#startTimeSeconds = Math.round(options.clock.nowMs() - process.uptime() * 1000) / 1000;
    this.#procSelfDir = options.procSelfDir ?? '/proc/self';
    const resolutionMs = options.eventLoopResolutionMs ?? 10;
    this.#resolutionNs = resolutionMs * 1e6;
    this.#eventLoopDelay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#eventLoopDelay.enable();
  }

  stop(): void {
    this.#eventLoopDelay.disable();
  }

  async render(): Promise<string> {
    // One after the other: reading the limits file concurrently would hold one more descriptor open.
    const openFds = await this.#openFds();
    const maxFds = await this.#maxFds();
    const cpu = process.cpuUsage();
    // The histogram records the time between its timer's ticks, which is the resolution plus the
    // delay; the delay is what blocks requests. Each scrape reads the window since the last one.
    const delay = this.#eventLoopDelay;
    const lagSeconds = (ns: number) => (delay.count === 0 ? 0 : Math.max(0, ns - this.#resolutionNs) / 1e9);
    const lagP99 = lagSeconds(delay.percentile(99));
    const lagMax = lagSeconds(delay.max);
    delay.reset();

    let text = '';
    const family = (name: string, type: MetricType, help: string, value: number | undefined) => {
      if (value !== undefined) text += formatFamilyHeader(name, help, type) + formatSample(name, '', value);
    };
    family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', process.memoryUsage.rss());
    family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6);
    family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', this.#startTimeSeconds);
    family('process_open_fds', 'gauge', 'Number of open file descriptors.', openFds);
    family('process_max_fds', 'gauge', 'Maximum number of open file descriptors.', maxFds);
    family('nodejs_eventloop_lag_seconds', 'gauge', '99th percentile of the event loop delay since the previous scrape, in seconds.', lagP99);
    family('nodejs_eventloop_lag_max_seconds', 'gauge', 'Longest event loop delay since the previous scrape, in seconds.', lagMax);
    return text;
  }

  /** Entries of /proc/self/fd, less the one readdir itself holds open while listing. */
  async #openFds(): Promise<number | undefined> {
    try {
      return (await readdir(`${this.#procSelfDir}/fd`)).length - 1;
    } catch {
      return undefined;
    }
  }

  /** The soft limit from /proc/self/limits ("Max open files  1024  4096  files"). */
  async #maxFds(): Promise<number | undefined> {
    try {
      const limits = await readFile(`${this.#procSelfDir}/limits`, 'utf8');
      const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
      if (match === null) return undefined;
      return match[1] === 'unlimited' ? Infinity : Number(match[1]);
    } catch {
      return undefined;
    }
  }
}

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../clock.js';
import { parseExposition, sampleValue, type ParsedFamily } from './exposition-parser.test-fixture.js';
import { MetricsRegistry } from './metrics-registry.js';
import { ProcessCollector } from './process-collector.js';

const WALL_MS = Date.UTC(2034, 0, 2, 3, 4, 5);

async function scrape(registry: MetricsRegistry): Promise<Map<string, ParsedFamily>> {
  return parseExposition(await registry.render());
}

function value(families: Map<string, ParsedFamily>, name: string): number {
  const v = sampleValue(families, name, name);
  assert.ok(v !== undefined, `${name} missing`);
  return v;
}

/**
 * Burns `ms` of this process's CPU time (not wall time: on a loaded machine a wall-clock loop
 * may get only a fraction of a core), holding the event loop.
 */
function busyFor(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

test('process metrics: memory, CPU, start time from the injected clock, typed as in the client libraries', async (t) => {
  const registry = new MetricsRegistry();
  const collector = registry.register(new ProcessCollector({ clock: new ManualClock(WALL_MS) }));
  t.after(() => collector.stop());

  const before = await scrape(registry);
  busyFor(150);
  const after = await scrape(registry);

  assert.equal(before.get('process_cpu_seconds_total')?.type, 'counter');
  assert.equal(before.get('process_resident_memory_bytes')?.type, 'gauge');
  const rss = value(after, 'process_resident_memory_bytes');
  assert.ok(Math.abs(rss - process.memoryUsage.rss()) < 64 * 1024 * 1024, `rss ${rss}`);
  const cpuGrowth = value(after, 'process_cpu_seconds_total') - value(before, 'process_cpu_seconds_total');
  assert.ok(cpuGrowth >= 0.14, `150 ms of busy CPU added only ${cpuGrowth} s to process_cpu_seconds_total`);
  const start = value(after, 'process_start_time_seconds');
  const expected = WALL_MS / 1000 - process.uptime();
  assert.ok(Math.abs(start - expected) < 2, `start ${start}, expected about ${expected}`);
});

test('event loop lag: a blocked loop shows in the next scrape, and each scrape starts a new window', async (t) => {
  const registry = new MetricsRegistry();
  const collector = registry.register(new ProcessCollector({ clock: new ManualClock(WALL_MS), eventLoopResolutionMs: 5 }));
  t.after(() => collector.stop());

  await new Promise((resolve) => setTimeout(resolve, 30));
  busyFor(120);
  await new Promise((resolve) => setTimeout(resolve, 30));
  const blocked = await scrape(registry);
  const max = value(blocked, 'nodejs_eventloop_lag_max_seconds');
  assert.ok(max >= 0.09 && max < 5, `max lag ${max} after blocking 120 ms`);
  assert.ok(value(blocked, 'nodejs_eventloop_lag_seconds') <= max);

  await new Promise((resolve) => setTimeout(resolve, 60));
  const calm = await scrape(registry);
  assert.ok(value(calm, 'nodejs_eventloop_lag_max_seconds') < 0.09, 'the blocked window was not reset');
});

test('open file descriptors are counted from /proc when the system has it', { skip: !existsSync('/proc/self/fd') && 'no /proc on this system' }, async (t) => {
  const registry = new MetricsRegistry();
  const collector = registry.register(new ProcessCollector({ clock: new ManualClock(WALL_MS) }));
  t.after(() => collector.stop());

  const before = value(await scrape(registry), 'process_open_fds');
  const handles = await Promise.all([open(fileURLToPath(import.meta.url)), open(fileURLToPath(import.meta.url))]);
  try {
    const during = value(await scrape(registry), 'process_open_fds');
    assert.equal(during - before, 2);
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
  assert.ok(value(await scrape(registry), 'process_max_fds') >= before);
});

test('without /proc the descriptor families are left out rather than reported as 0', async (t) => {
  const registry = new MetricsRegistry();
  const collector = registry.register(new ProcessCollector({ clock: new ManualClock(WALL_MS), procSelfDir: '/nonexistent-proc/self' }));
  t.after(() => collector.stop());
  const families = await scrape(registry);
  assert.equal(families.has('process_open_fds'), false);
  assert.equal(families.has('process_max_fds'), false);
  assert.ok(families.has('process_resident_memory_bytes'));
});

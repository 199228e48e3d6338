import { Worker } from 'node:worker_threads';
import type { Clock } from '../../infra/clock.js';
import type { TextDecoding } from './latin1-text.js';
import type { PolicyReference, SecretFinding } from './secret-finding.js';
import type { Baseline } from './suppressions.js';
import type { SourceStats } from './text-unit.js';
import { countRead, treeFiles, type FileRead, type TreeFile, type WorkingTreeOptions } from './working-tree-source.js';

/**
 * A working-tree scan on several threads (`holdfast scan secrets --threads N`): this thread walks
 * the tree and hands out batches of files; each worker (tree-scan-worker.ts) reads and scans
 * them; the findings are put back in path order, so the output is the one a single thread gives.
 * Scanning is CPU-bound (the rules' regexes), so N threads go up to N times as fast on N idle
 * cores, and no faster on a busy machine.
 */
export interface ParallelTreeScanOptions {
  /** The user's rule file as parsed JSON and its name, when one was given (`--rules`). */
  readonly ruleFile?: { readonly content: unknown; readonly source: string };
  readonly baseline?: Baseline;
  readonly clock: Clock;
  readonly policy: PolicyReference;
  readonly threads: number;
}

/** What each worker is started with. */
export interface TreeScanSetup {
  readonly ruleFile?: { readonly content: unknown; readonly source: string };
  readonly baseline?: Baseline;
  /** Suppressions are judged at this instant in every thread: when the scan started. */
  readonly nowMs: number;
  readonly policy: PolicyReference;
  readonly maxFileBytes: number;
  readonly decoding: TextDecoding;
}

export interface TreeScanBatch {
  readonly batch: number;
  readonly files: readonly TreeFile[];
}

export interface TreeScanBatchResult {
  readonly batch: number;
  readonly results: ReadonlyArray<{ readonly kind: FileRead['kind']; readonly bytes: number; readonly findings: SecretFinding[] }>;
}

/** Files per message: enough to make a message cheap beside the scanning, few enough to share the work out evenly. */
const BATCH_FILES = 128;
/** Batches waiting at each worker, so none idles while its next batch is on the way. */
const IN_FLIGHT = 2;

/** The tree's files in batches, walked as the workers ask for more (the walk overlaps the scanning). */
function* batchesOf(files: Iterable<TreeFile>): Generator<TreeFile[]> {
  let batch: TreeFile[] = [];
  for (const file of files) {
    batch.push(file);
    if (batch.length === BATCH_FILES) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export async function scanTreeInParallel(root: string, tree: WorkingTreeOptions, options: ParallelTreeScanOptions, stats: SourceStats): Promise<SecretFinding[]> {
  const batches = batchesOf(treeFiles(root, tree, stats));
  // Started only when there is something to scan: an empty tree starts no thread.
  let pending = batches.next();
  if (pending.done === true) return [];
  const setup: TreeScanSetup = {
    ...(options.ruleFile === undefined ? {} : { ruleFile: options.ruleFile }),
    ...(options.baseline === undefined ? {} : { baseline: options.baseline }),
    nowMs: options.clock.nowMs(),
    policy: options.policy,
    maxFileBytes: tree.maxFileBytes,
    decoding: tree.decoding,
  };
  const results: Array<TreeScanBatchResult['results']> = [];
  const workers = Array.from({ length: options.threads }, () => new Worker(new URL('./tree-scan-worker.js', import.meta.url), { workerData: setup }));
  try {
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      let answered = 0;
      const send = (worker: Worker) => {
        if (pending.done === true) return;
        worker.postMessage({ batch: sent++, files: pending.value } satisfies TreeScanBatch);
        try {
          pending = batches.next();
        } catch (error) {
          // The walk failed (a directory it cannot list): the scan fails, as it does on one thread.
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      for (const worker of workers) {
        worker.on('message', (answer: TreeScanBatchResult) => {
          results[answer.batch] = answer.results;
          answered++;
          send(worker);
          if (answered === sent && pending.done === true) resolve();
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`a secret-scan worker stopped (exit ${code}) before the scan was done`)));
        for (let slot = 0; slot < IN_FLIGHT; slot++) send(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  const findings: SecretFinding[] = [];
  for (const batch of results) {
    for (const result of batch) {
      countRead(result.kind, result.bytes, stats);
      findings.push(...result.findings);
    }
  }
  return findings;
}

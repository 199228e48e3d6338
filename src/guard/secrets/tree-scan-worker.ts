import { parentPort, workerData } from 'node:worker_threads';
import { ManualClock } from '../../infra/clock.js';
import { scanUnit } from './secret-scan.js';
import { loadSecretRules } from './secret-rules.js';
import { FileReader } from './working-tree-source.js';
import type { TreeScanBatch, TreeScanBatchResult, TreeScanSetup } from './parallel-tree-scan.js';

/**
 * One thread of a parallel working-tree scan (parallel-tree-scan.ts): reads and scans the files
 * of each batch it is sent and answers with their findings, in the batch's order. The rule set
 * is compiled here from the same rule file (compiled regexes cannot cross threads); suppressions
 * are judged at the instant the scan started, the same for every thread.
 */
const setup = workerData as TreeScanSetup;
const ruleSet = setup.ruleFile === undefined ? loadSecretRules() : loadSecretRules(setup.ruleFile.content, setup.ruleFile.source);
const options = { ruleSet, clock: new ManualClock(setup.nowMs), policy: setup.policy, ...(setup.baseline === undefined ? {} : { baseline: setup.baseline }) };
const reader = new FileReader(setup.maxFileBytes, setup.decoding, ruleSet.prefilter);

parentPort!.on('message', (batch: TreeScanBatch) => {
  const results = batch.files.map(({ file, path }) => {
    const read = reader.read(file);
    if (read.kind === 'clean') return { kind: read.kind, bytes: read.bytes, findings: [] };
    if (read.kind !== 'text') return { kind: read.kind, bytes: 0, findings: [] };
    const unit = { path, text: read.text, decoding: setup.decoding, ...(read.screened === undefined ? {} : { screened: read.screened }) };
    return { kind: read.kind, bytes: read.bytes, findings: scanUnit(unit, options) };
  });
  parentPort!.postMessage({ batch: batch.batch, results } satisfies TreeScanBatchResult);
});

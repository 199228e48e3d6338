/**
 * The digest thread of DigestWorkerPool: computes MD5, SHA-256 and an x-amz-checksum-* over
 * batches of shared memory, in the order they were posted. It only reads the batches; the
 * main thread reuses one after this thread has answered `consumed` for it.
 */
import { type Hash, createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { createChecksum } from './create-checksum.js';
import type { IncrementalChecksum } from './incremental-checksum.js';
import type { DigestReply, DigestCommand } from './digest-protocol.js';

interface RunState {
  readonly md5: Hash;
  readonly sha256: Hash | undefined;
  readonly checksum: IncrementalChecksum | undefined;
}

const port = parentPort;
if (port === null) throw new Error('digest-worker.js runs as a worker thread');
const runs = new Map<number, RunState>();

port.on('message', (command: DigestCommand) => {
  const reply = handle(command);
  if (reply !== undefined) port.postMessage(reply);
});

function handle(command: DigestCommand): DigestReply | undefined {
  try {
    switch (command.op) {
      case 'open':
        runs.set(command.run, {
          md5: createHash('md5'),
          sha256: command.sha256 ? createHash('sha256') : undefined,
          checksum: command.checksum === undefined ? undefined : createChecksum(command.checksum),
        });
        return undefined;
      case 'update': {
        const state = stateOf(command.run);
        const bytes = new Uint8Array(command.buffer, 0, command.length);
        state.md5.update(bytes);
        state.sha256?.update(bytes);
        state.checksum?.update(bytes);
        return { op: 'consumed', run: command.run };
      }
      case 'finish': {
        const state = stateOf(command.run);
        runs.delete(command.run);
        return {
          op: 'digests',
          run: command.run,
          md5: state.md5.digest(),
          sha256: state.sha256?.digest(),
          checksum: state.checksum?.digest(),
        };
      }
      case 'cancel':
        runs.delete(command.run);
        return undefined;
    }
  } catch (error) {
    runs.delete(command.run);
    return { op: 'failed', run: command.run, message: error instanceof Error ? error.message : String(error) };
  }
}

function stateOf(run: number): RunState {
  const state = runs.get(run);
  if (state === undefined) throw new Error(`digest run ${run} is not open`);
  return state;
}

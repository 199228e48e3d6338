import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HttpTarget, PointResult, Scenario, WorkReply, WorkRequest } from './workload.js';

/**
 * Child side: answer each WorkRequest from the parent, one at a time, and exit when the parent
 * goes away (so a crashed orchestrator leaves no load generator behind).
 */
export function serveRequests(handle: (request: WorkRequest) => Promise<PointResult>): void {
  const send = (reply: WorkReply) => {
    if (process.send === undefined) throw new Error('this module must be started with child_process.fork');
    process.send(reply);
  };
  process.on('message', (message: unknown) => {
    const request = message as WorkRequest;
    handle(request).then(
      (result) => send({ id: request.id, ok: true, result }),
      (error: unknown) => send({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.once('disconnect', () => process.exit(0));
}

/** Parent side: a forked bench process that runs scenarios on request. */
export class WorkerProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (r: PointResult) => void; reject: (e: Error) => void }>();
  readonly #exited: Promise<void>;
  #nextId = 1;

  constructor(module: URL, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.#child = fork(fileURLToPath(module), args, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (message: unknown) => {
      const reply = message as WorkReply;
      const waiter = this.#pending.get(reply.id);
      if (waiter === undefined) return;
      this.#pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(reply.message));
    });
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        for (const waiter of this.#pending.values()) {
          waiter.reject(new Error(`${module.pathname} exited (${signal ?? `code ${code}`}) mid-scenario`));
        }
        this.#pending.clear();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  run(scenario: Scenario, target?: HttpTarget): Promise<PointResult> {
    const id = this.#nextId++;
    const request: WorkRequest = target === undefined ? { id, scenario } : { id, scenario, target };
    return new Promise<PointResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send(request);
    });
  }

  /** Disconnects (the child exits on its own); SIGKILL if it has not after a few seconds. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

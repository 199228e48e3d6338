import { spawn, type ChildProcess } from 'node:child_process';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';

/** The Debian package that provides each external tool the suite drives (see .ci/run). */
const debianPackageOf: Readonly<Record<string, string>> = {
  aws: 'awscli',
  s3cmd: 's3cmd',
  rclone: 'rclone',
  restic: 'restic',
  python3: 'python3-boto3',
};

/**
 * Checks that an external tool runs (`name probeArgs...` exits 0). When it does not, the test is
 * skipped locally with the install command as the reason; under CI a skip would hide a missing
 * install step, so the test fails instead (restic's rule: skips allowed locally, forbidden in CI).
 *
 * Returns false when the caller must return early because the test was skipped.
 */
export async function requireTool(
  t: TestContext,
  name: string,
  probeArgs: readonly string[],
  debianPackage: string = debianPackageOf[basename(name)] ?? basename(name),
): Promise<boolean> {
  const probe = await runCommand(name, probeArgs, { timeoutMs: 30_000, expectExitCode: 'any' });
  if (probe.code === 0) return true;
  const reason = `${name} not installed: apt-get install ${debianPackage}`;
  if (process.env.CI === 'true') {
    throw new Error(`${reason} (CI may not skip; .ci/run installs it)\n${describeOutput(probe)}`);
  }
  t.skip(reason);
  return false;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Kill the command (and its process group) after this long and fail. Default 120 s. */
  readonly timeoutMs?: number;
  /** The exit code the command must end with; 'any' to inspect it yourself. Default 0. */
  readonly expectExitCode?: number | 'any';
  readonly input?: string;
}

export interface RunResult {
  readonly command: string;
  /** null when the command could not be started or was killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** Set when the command could not be started (e.g. ENOENT). */
  readonly spawnError?: Error;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child);
});

/**
 * Runs a command without a shell, bounded by a timeout, capturing stdout and stderr. Rejects when
 * the exit code differs from `expectExitCode`, with the command line and its output in the message.
 * Secrets must travel in env or config files, never in args: args appear in failure messages.
 */
export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const expectExitCode = options.expectExitCode ?? 0;
  const commandLine = [command, ...args].map(quoteForDisplay).join(' ');
  const started = performance.now();

  const result = await new Promise<RunResult & { timedOut: boolean }>((resolve) => {
    // Own process group, so a timeout also ends whatever the tool itself started.
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (options.input !== undefined) child.stdin?.end(options.input);
    let timedOut = false;
    let spawnError: Error | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({
        command: commandLine,
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: performance.now() - started,
        timedOut,
        ...(spawnError === undefined ? {} : { spawnError }),
      });
    });
  });

  const { timedOut, ...outcome } = result;
  if (timedOut) {
    throw new Error(`timed out after ${timeoutMs} ms: ${describeOutput(outcome)}`);
  }
  if (outcome.spawnError !== undefined && expectExitCode !== 'any') {
    throw new Error(`could not start ${commandLine}: ${outcome.spawnError.message}`);
  }
  if (expectExitCode !== 'any' && outcome.code !== expectExitCode) {
    throw new Error(`expected exit code ${expectExitCode}, got ${outcome.code}: ${describeOutput(outcome)}`);
  }
  return outcome;
}

/** The command line, exit status and (the end of) its output, for assertion messages. */
export function describeOutput(result: RunResult): string {
  const clip = (text: string) => (text.length > 8_000 ? `…${text.slice(-8_000)}` : text);
  return [
    result.spawnError === undefined
      ? `${result.command} → exit ${result.code}${result.signal === null ? '' : ` (signal ${result.signal})`}` +
        ` in ${Math.round(result.durationMs)} ms`
      : `${result.command} → could not start: ${result.spawnError.message}`,
    `--- stdout ---\n${clip(result.stdout)}`,
    `--- stderr ---\n${clip(result.stderr)}`,
  ].join('\n');
}

/** Variables whose leftovers from the developer's shell would redirect or reconfigure a client. */
const foreignClientVariables = /^(AWS_|RCLONE_|RESTIC_|BOTO_|S3CMD|HTTPS?_PROXY$|ALL_PROXY$|NO_PROXY$)/i;
/**
 * CA-bundle variables. rclone refuses to start with a custom CA bundle while the endpoint is plain
 * http ("cannot set CA bundle"); the other clients ignore them over http, so they go for all.
 */
const caBundleVariables = ['AWS_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'NIX_SSL_CERT_FILE'];

/**
 * An environment for running an S3 client against a test server and nothing else: no AWS_*,
 * RCLONE_*, RESTIC_* or proxy settings from the caller's shell, no CA bundles, and HOME / XDG dirs
 * under `home`, so ~/.aws, ~/.s3cfg, rclone.conf and caches of the machine are never read.
 */
export function isolatedClientEnv(home: string, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || foreignClientVariables.test(name) || caBundleVariables.includes(name)) continue;
    env[name] = value;
  }
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    ...extra,
  });
  return env;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function quoteForDisplay(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

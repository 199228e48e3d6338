import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ServerConfig } from '../config/server-config.js';
import { BucketProtection } from '../domain/bucket-protection.js';
import { AccessControl } from '../domain/identity/access-control.js';
import { ChangeApprovals } from '../domain/identity/change-approvals.js';
import { IdentityRegistry } from '../domain/identity/identity-registry.js';
import type { AccessDecider } from '../protocol/s3/authorization.js';
import { MultipartUploads } from '../domain/multipart.js';
import { ObjectLocks } from '../domain/object-locks.js';
import { sweepOrphanBlobs } from '../domain/orphan-sweep.js';
import { Vault } from '../domain/vault.js';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import type { Clock } from '../infra/clock.js';
import { SecretBox } from '../infra/crypto/secret-box.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';
import { ADMIN_PREFIX, createAdminHandler } from '../protocol/admin/admin-http-handler.js';
import { createS3Handler, rawErrorResponse } from '../protocol/s3/s3-http-handler.js';
import { type RootCredentialsOutcome, bootstrapRootCredentials } from './root-credentials-bootstrap.js';
import { RetentionClock } from '../domain/retention-clock.js';

const TRUSTED_TIME_SETTING = 'retention-clock-trusted-ms';

export interface Logger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface RunningVault {
  readonly url: string;
  readonly rootCredentials: RootCredentialsOutcome;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes storage. */
  close(): Promise<void>;
}

/**
 * The composition root of the embedded deployment: one data directory holding
 *   metadata/vault.sqlite   metadata (SQLite, WAL)
 *   blobs/                  object bytes
 *   keys/secret-box.key     the key that seals stored secrets (kept apart from the metadata)
 *   root-credentials        written once on first start when no root key was given
 */
export interface StartOptions {
  /** The operator confirms the wall clock after a forward jump (`holdfast server --confirm-clock`). */
  readonly confirmClock?: boolean;
  /** Monotonic milliseconds; injected by tests. */
  readonly monotonicMs?: () => number;
}

export async function startVaultServer(
  config: ServerConfig,
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
  log: Logger,
  startOptions: StartOptions = {},
): Promise<RunningVault> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const releaseLock = await lockDataDir(config.dataDir);
  let metadata: SqliteMetadataStore | undefined;
  try {
    const secretBox = await SecretBox.openKeyFile(join(config.dataDir, 'keys', 'secret-box.key'));
    metadata = new SqliteMetadataStore(join(config.dataDir, 'metadata', 'vault.sqlite'));
    const blobs = new FsBlobStore(join(config.dataDir, 'blobs'));
    const store = metadata;
    const retentionClock = new RetentionClock({
      wall: clock,
      monotonicMs: startOptions.monotonicMs ?? (() => performance.now()),
      toleranceMs: config.clockJumpToleranceHours * 3600 * 1000,
      store: {
        load: async () => {
          const saved = await store.getSetting(TRUSTED_TIME_SETTING);
          return saved === undefined ? undefined : Number(saved);
        },
        save: (ms) => store.putSetting(TRUSTED_TIME_SETTING, String(Math.floor(ms))),
      },
      onJump: ({ wallMs, trustedMs }) =>
        log.error(
          `ALERT: the system clock reads ${new Date(wallMs).toISOString()}, ${Math.round((wallMs - trustedMs) / 3600_000)} h ahead of the last trusted time ${new Date(trustedMs).toISOString()}. ` +
            'Object Lock retention expiry is paused (nothing locked can be deleted early). If the clock is right, restart with `holdfast server --confirm-clock`.',
        ),
    });
    await retentionClock.start(startOptions.confirmClock === true);
    const vault = new Vault(metadata, blobs, clock, { region: config.region, inlineLimit: config.inlineObjectBytes, retentionClock });
    const multipart = new MultipartUploads(vault);
    const locks = new ObjectLocks(vault);
    const identities = new IdentityRegistry(metadata, secretBox, {
      nowMs: () => clock.nowMs(),
      bucketNames: async () => (await vault.listBuckets()).map((b) => b.name),
    });
    await identities.load();
    const rootCredentials = await bootstrapRootCredentials(identities, env, config.dataDir, clock.nowMs());
    const accessControl = new AccessControl(async (bucket) => (await store.getBucket(bucket))?.controls.policy);
    const access: AccessDecider = {
      principalOf: (id) => identities.principalOf(id),
      decide: (principal, action, target, context) => accessControl.decide(principal, action, target, context),
    };
    const approvals: ChangeApprovals = new ChangeApprovals(metadata, () => clock.nowMs(), (change): Promise<void> => protection.apply(change));
    const protection: BucketProtection = new BucketProtection(locks, approvals);
    const secrets = (id: string) => identities.secretFor(id);

    const handler = createS3Handler({
      context: { vault, multipart, locks, protection },
      secrets,
      access,
      secureTransport: false,
      clock,
      virtualHostDomain: config.virtualHostDomain,
      onInternalError: (requestId, error) => log.error(`request ${requestId} failed`, error),
    });
    const adminHandler = createAdminHandler({
      services: { vault, protection, identities, nowMs: () => clock.nowMs() },
      secrets,
      access,
      secureTransport: false,
      clock,
      onInternalError: (requestId, error) => log.error(`admin request ${requestId} failed`, error),
    });
    const server = createServer(
      {
        // Uploads of many GiB can take longer than Node's 5-minute default; idleness is bounded instead.
        requestTimeout: 0,
        headersTimeout: 60_000,
        keepAliveTimeout: 65_000,
        maxHeaderSize: 16 * 1024,
        // Answer a Host-less request with an S3 error ourselves instead of a bare 400 from the parser.
        requireHostHeader: false,
      },
      (req, res) => void (req.url?.startsWith(ADMIN_PREFIX) ? adminHandler(req, res) : handler(req, res)),
    );
    server.setTimeout(300_000);
    // Requests the HTTP parser refuses never reach the handler; answer them in S3's format too.
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (socket.writable && !socket.destroyed) socket.end(rawErrorResponse(error.code));
      else socket.destroy();
    });
    // An unknown Expect value is not a reason to refuse an S3 request: handle it as usual.
    server.on('checkExpectation', (req, res) => void handler(req, res));
    server.on('connect', (_req, socket) => {
      socket.end(rawErrorResponse(undefined));
    });
    const startedMs = Date.now();
    await listen(server, config.listen.host, config.listen.port);
    // Leftovers of writes a crash interrupted: only blobs older than this start are considered.
    sweepOrphanBlobs(metadata, blobs, startedMs).then(
      ({ removed }) => {
        if (removed > 0) log.info(`removed ${removed} unreferenced blob(s) left by an interrupted write`);
      },
      (e: unknown) => log.error('orphan blob sweep failed', e),
    );
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;

    const sweepEveryMs = 60 * 60 * 1000;
    const sweeper = setInterval(() => {
      multipart
        .sweepAbandoned(config.multipartExpiryHours * 3600 * 1000)
        .catch((e: unknown) => log.error('abandoned multipart sweep failed', e));
    }, sweepEveryMs);
    sweeper.unref();
    // The trusted time is saved each minute, so a restart can tell downtime from a clock jump.
    const clockKeeper = setInterval(() => {
      retentionClock.persist().catch((e: unknown) => log.error('saving the trusted time failed', e));
    }, 60_000);
    clockKeeper.unref();

    const openMetadata = metadata;
    return {
      url,
      rootCredentials,
      close: async () => {
        clearInterval(sweeper);
        clearInterval(clockKeeper);
        await closeServer(server, config.shutdownGraceSeconds * 1000);
        await retentionClock.persist();
        await openMetadata.close();
        await releaseLock();
      },
    };
  } catch (error) {
    await metadata?.close().catch(() => undefined);
    await releaseLock();
    throw error;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections go idle as their last response finishes: close each as it does.
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(sweep);
  clearTimeout(timer);
}

/** Lock files this process holds: its own pid in a lock file proves nothing after a PID reuse. */
const heldLocks = new Set<string>();

/** One server per data directory: two writers on one SQLite file and blob tree would be a disaster. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, 'holdfast.pid');
  if (heldLocks.has(path)) throw new Error(`This process already serves ${dataDir}. Pass a different --data directory.`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.sync();
      await handle.close();
      heldLocks.add(path);
      return async () => {
        heldLocks.delete(path);
        await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`Another holdfast server (pid ${pid}) is using ${dataDir}. Stop it first, or pass a different --data directory.`, { cause: e });
      }
      // A stale lock from a crashed (e.g. SIGKILLed) server, possibly with our recycled pid: take it over.
      await rm(path, { force: true });
    }
  }
  throw new Error(`Cannot lock ${dataDir}: ${path} keeps reappearing.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

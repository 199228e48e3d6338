import { parseArgs } from 'node:util';
import { loadServerConfig } from '../config/server-config.js';
import { systemClock } from '../infra/clock.js';
import { startVaultServer } from '../server/vault-server.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';

/** `holdfast server`: runs the vault in the foreground until SIGTERM/SIGINT. */
export async function runServerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      listen: { type: 'string' },
      config: { type: 'string' },
      region: { type: 'string' },
      'virtual-host-domain': { type: 'string' },
      'confirm-clock': { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'allow-plaintext-network': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const config = loadServerConfig({
    flags: {
      data: values.data,
      listen: values.listen,
      region: values.region,
      'virtual-host-domain': values['virtual-host-domain'],
      'tls-cert': values['tls-cert'],
      'tls-key': values['tls-key'],
      'allow-plaintext-network': values['allow-plaintext-network'] === true ? 'true' : undefined,
    },
    env: process.env,
    configFile: values.config ?? (process.env['HOLDFAST_CONFIG'] || undefined),
  });
  const log = {
    info: (message: string) => process.stdout.write(`holdfast: ${message}\n`),
    error: (message: string, error?: unknown) =>
      process.stderr.write(`holdfast: ${message}${error instanceof Error ? `: ${error.stack ?? error.message}` : ''}\n`),
  };
  const vault = await startVaultServer(config, process.env, systemClock, log, { confirmClock: values['confirm-clock'] === true });
  log.info(`data directory ${config.dataDir}`);
  const root = vault.rootCredentials;
  if (root.kind === 'generated') {
    log.info(`generated root credentials (access key ${root.accessKeyId}); the secret is in ${root.file} (mode 0600)`);
  } else {
    log.info(`root access key ${root.accessKeyId} (${root.kind === 'existing' ? 'stored' : 'from environment'})`);
  }
  log.info(`S3 endpoint listening on ${vault.url}`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received, finishing in-flight requests`);
      vault.close().then(
        () => {
          log.info('stopped');
          resolve(EXIT_OK);
        },
        (error: unknown) => {
          log.error('shutdown failed', error);
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

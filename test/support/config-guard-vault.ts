import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebhookReceiver } from '../../src/infra/alerts/receivers.test-fixture.js';
import { type KeyPair, createIdentityWithKey, rootKey } from './admin-cli.js';
import type { Teardown } from './teardown.js';
import { startVault } from './vault-server.js';

/**
 * What the configuration-guard scenarios start from: a vault whose alerts go to a real local
 * webhook receiver, and two admins (alice proposes, bob approves: the two-person rule).
 * Everything started is undone by `teardown`.
 */
export async function startConfigGuardVault(teardown: Teardown, prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  teardown.removeDir(dir);
  const webhook = await startWebhookReceiver();
  teardown.add(() => webhook.close());
  await writeFile(join(dir, 'holdfast.json'), JSON.stringify({ alertChannels: [{ kind: 'webhook', name: 'siem', url: webhook.url, format: 'json' }] }));
  const vault = await startVault({ env: { HOLDFAST_CONFIG: join(dir, 'holdfast.json'), HOLDFAST_ALERT_SIEM_SECRET: 'webhook-secret-for-the-test', HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  const root: KeyPair = rootKey(vault);
  const alice = await createIdentityWithKey(vault, root, 'alice', ['admin']);
  const bob = await createIdentityWithKey(vault, root, 'bob', ['admin']);
  return { dir, webhook, vault, root, alice, bob };
}

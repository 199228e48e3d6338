import type { ArchivedKeyLister } from '../backup/pg/wal-archive-monitor.js';
import type { Vault } from '../domain/vault.js';

/** The WAL archive monitor's view of the vault: its own listing, no HTTP, no credentials. */
export function vaultKeyLister(vault: Vault): ArchivedKeyLister {
  return {
    async *listKeys(bucket, prefix, after) {
      let marker = after ?? '';
      for (;;) {
        const page = await vault.listObjects(bucket, { prefix, delimiter: '', after: marker, maxKeys: 1000 });
        for (const record of page.contents) yield { key: record.key, lastModifiedMs: record.lastModifiedMs };
        if (!page.isTruncated || page.nextMarker === undefined) return;
        marker = page.nextMarker;
      }
    },
  };
}

import type { S3Error } from './errors.js';
import type { MetadataStore } from './ports.js';

/** What a mutation makes of the stored text: the text to store (undefined: store nothing) and the caller's answer. */
export interface SettingMutation<T> {
  readonly next: string | undefined;
  readonly result: T;
}

/**
 * Read-modify-write of one metadata setting by compare-and-set, for processes sharing the
 * metadata store (cluster nodes): `mutate` sees exactly the stored text read in this round and
 * derives the new text from it alone, and the write succeeds only if the setting still holds that
 * text; on a lost race the next round reads again and mutates the newer text. A mutation must not
 * consult state it did not derive from `raw` (an in-memory copy may be replaced meanwhile), or a
 * change made by another node in between is silently undone.
 */
export async function updateSetting<T>(
  metadata: Pick<MetadataStore, 'getSetting' | 'compareAndSetSetting'>,
  name: string,
  mutate: (raw: string | undefined) => Promise<SettingMutation<T>> | SettingMutation<T>,
  options: { readonly attempts: number; readonly contended: () => S3Error },
): Promise<T> {
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    const raw = await metadata.getSetting(name);
    const { next, result } = await mutate(raw);
    if (next === undefined) return result;
    if (await metadata.compareAndSetSetting(name, raw, next)) return result;
  }
  throw options.contended();
}

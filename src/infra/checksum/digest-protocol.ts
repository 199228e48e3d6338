import type { ChecksumAlgorithm } from './checksum-algorithm.js';

/** Main thread → digest thread. Commands of one run are handled in the order they were posted. */
export type DigestCommand =
  | { readonly op: 'open'; readonly run: number; readonly sha256: boolean; readonly checksum: ChecksumAlgorithm | undefined }
  /** Digest the first `length` bytes of `buffer`, then answer `consumed`. */
  | { readonly op: 'update'; readonly run: number; readonly buffer: SharedArrayBuffer; readonly length: number }
  | { readonly op: 'finish'; readonly run: number }
  | { readonly op: 'cancel'; readonly run: number };

/** Digest thread → main thread. */
export type DigestReply =
  | { readonly op: 'consumed'; readonly run: number }
  | {
      readonly op: 'digests';
      readonly run: number;
      readonly md5: Uint8Array;
      readonly sha256: Uint8Array | undefined;
      readonly checksum: Uint8Array | undefined;
    }
  | { readonly op: 'failed'; readonly run: number; readonly message: string };

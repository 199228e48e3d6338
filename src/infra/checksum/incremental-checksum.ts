/** A checksum fed chunk by chunk, as request bodies arrive. */
export interface IncrementalChecksum {
  update(chunk: Uint8Array): void;
  /** Raw digest bytes (4 for CRC32/CRC32C, 8 for CRC64NVME, 20 for SHA1, 32 for SHA256). */
  digest(): Buffer;
}

import { WAL_FILE_NAME_FORMS } from './wal-file-name.js';

/** The path or name given is not a file PostgreSQL archives (a wrong `%p` or `%f`). */
export class WalFileNameError extends Error {
  constructor(readonly fileName: string) {
    super(`"${fileName}" is not a WAL file name: expected ${WAL_FILE_NAME_FORMS}. Check that archive_command passes %p and restore_command passes %f %p.`);
    this.name = 'WalFileNameError';
  }
}

/**
 * The archive already holds a different file under this name. Never overwritten: the archive's
 * copy may be the one a restore needs, and two different segments with one name mean something
 * is wrong upstream (two clusters sharing one prefix, a restored cluster archiving on the old
 * timeline, a corrupted pg_wal).
 */
export class WalConflictError extends Error {
  constructor(
    readonly fileName: string,
    readonly location: string,
    readonly archivedSha256: string | undefined,
    readonly pushedSha256: string,
    readonly archivedSystemIdentifier: string | undefined,
    readonly pushedSystemIdentifier: string | undefined,
    /** Encryption key ids ('none' when unencrypted), when they differ. */
    readonly archivedKeyId?: string,
    readonly pushedKeyId?: string,
  ) {
    const keys = archivedKeyId !== pushedKeyId ? ` The archived copy is ${archivedKeyId === 'none' ? 'not encrypted' : `encrypted with key ${archivedKeyId}`}, this push is ${pushedKeyId === 'none' ? 'not encrypted' : `with key ${pushedKeyId}`}: the digests cannot be compared; one repository takes one key.` : '';
    const systems =
      archivedSystemIdentifier !== undefined && pushedSystemIdentifier !== undefined && archivedSystemIdentifier !== pushedSystemIdentifier
        ? ` The archived segment comes from database system ${archivedSystemIdentifier}, this one from ${pushedSystemIdentifier}: two clusters archive into the same repository; give each its own --repo prefix.`
        : '';
    super(
      `refusing to overwrite ${fileName} in ${location}: the archive holds a different file under that name ` +
        `(archived sha256 ${archivedSha256 ?? 'unknown: the object was not written by holdfast'}, this file sha256 ${pushedSha256}).${keys}${systems} ` +
        'The archived copy is kept; find out why the cluster produced a different file before archiving continues.',
    );
    this.name = 'WalConflictError';
  }
}

/** Stored or fetched bytes that do not match what they should be. */
export class WalIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalIntegrityError';
  }
}

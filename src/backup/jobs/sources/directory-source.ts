import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { writeDirectoryTar } from '../../../infra/tar/tar-writer.js';
import type { DirectorySource } from '../job-config.js';
import { type ArchivedFile, SourceError, type SourceProcess } from './source-process.js';

/** A tar of the directory (see tar-writer.ts), streamed as it is read. */
export function startDirectoryTar(source: DirectorySource): SourceProcess {
  const notes: string[] = [];
  const note = (path: string, reason: string) => {
    notes.push(`${path}: ${reason}`);
    if (notes.length > 100) notes.shift();
  };
  const files: ArchivedFile[] = [];
  async function* tar(): AsyncGenerator<Buffer> {
    const info = await stat(source.path).catch((error: NodeJS.ErrnoException) => {
      throw new SourceError(`cannot read ${source.path}: ${error.code === 'ENOENT' ? 'it does not exist' : error.message}`);
    });
    if (!info.isDirectory()) throw new SourceError(`${source.path} is not a directory`);
    yield* writeDirectoryTar(source.path, { onSkipped: note, onChanged: note, onFile: (path, size, sha256) => files.push({ path, size, sha256 }) });
  }
  const output = Readable.from(tar(), { objectMode: false });
  const finished = new Promise<void>((resolve, reject) => {
    output.once('end', resolve);
    output.once('error', (error) => reject(error instanceof SourceError ? error : new SourceError(`reading ${source.path} failed: ${error.message}`)));
    output.once('close', () => {
      if (!output.readableEnded) reject(new SourceError(`reading ${source.path} was stopped`));
    });
  });
  finished.catch(() => undefined);
  return {
    output,
    finished,
    stop: () => output.destroy(),
    logExcerpt: () => notes.join('\n'),
    recorded: () => ({ files }),
  };
}

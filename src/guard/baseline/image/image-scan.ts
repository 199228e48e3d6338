import { basename, dirname, resolve } from 'node:path';
import { redactSecret, secretFingerprint } from '../../secrets/secret-finding.js';
import type { SecretRuleSet } from '../../secrets/secret-rules.js';
import { scanText } from '../../secrets/secret-scanner.js';
import { looksBinary } from '../../secrets/text-unit.js';
import type { BaselineFinding } from '../baseline-finding.js';
import type { BaselineProblem } from '../baseline-report.js';
import { openImageArchive } from './image-archive.js';
import { checkImage, type FileSecret } from './image-checks.js';
import { isContentFile } from './image-contents.js';
import { resolveImage } from './image-manifest.js';
import { LayeredFilesystem } from './layered-filesystem.js';
import { LayerNotReadable, readLayer } from './layer-reader.js';

export interface ImageScanOptions {
  readonly ruleSet: SecretRuleSet;
  /** Text files up to this size are scanned for secrets. */
  readonly maxFileBytes: number;
  readonly maxPackages: number;
  /** A RepoTags entry or ref.name annotation, when the archive holds several images. */
  readonly select?: string;
}

export interface ImageScanResult {
  readonly root: string;
  readonly target: string;
  readonly findings: BaselineFinding[];
  readonly facts: Record<string, unknown>;
  readonly problems: BaselineProblem[];
  readonly filesScanned: number;
}

export const DEFAULT_IMAGE_MAX_FILE_BYTES = 256 * 1024;
export const DEFAULT_MAX_PACKAGES = 150;

/**
 * Package-owned documentation and data that a secret scan of an image would only slow down (and
 * whose example keys would be reported against the image): skipped, and listed in the README.
 */
const NOT_SCANNED_FOR_SECRETS = [
  'usr/share/doc/',
  'usr/share/man/',
  'usr/share/info/',
  'usr/share/locale/',
  'usr/share/i18n/',
  'usr/share/zoneinfo/',
  'usr/share/common-licenses/',
  'usr/share/mime/',
  'usr/include/',
  'var/lib/dpkg/',
  'var/lib/apt/lists/',
  'var/cache/',
  'lib/apk/',
  'proc/',
  'sys/',
];

function secretCandidate(path: string, size: number, maxFileBytes: number): boolean {
  const clean = path.replace(/^(?:\.?\/)+/, '');
  return size > 0 && size <= maxFileBytes && !NOT_SCANNED_FOR_SECRETS.some((prefix) => clean.startsWith(prefix));
}

/** Reads an image (OCI layout directory or tarball) and runs every image check on it. */
export async function scanImage(imagePath: string, options: ImageScanOptions): Promise<ImageScanResult> {
  const absolute = resolve(imagePath);
  const root = dirname(absolute);
  const target = basename(absolute);
  const archive = openImageArchive(absolute);
  const image = resolveImage(archive, options.select);
  const fs = new LayeredFilesystem();
  const problems: BaselineProblem[] = [];
  const fileSecrets: FileSecret[] = [];
  let filesScanned = 0;
  let bytesRead = 0;
  const compressions: string[] = [];
  for (const [index, layer] of image.layers.entries()) {
    try {
      const result = await readLayer(archive, layer, {
        keepContent: (header) => isContentFile(header.path) || secretCandidate(header.path, header.size, options.maxFileBytes),
        retain: isContentFile,
        onContent: (entry) => {
          if (entry.content === undefined || !secretCandidate(entry.path, entry.size, options.maxFileBytes) || looksBinary(entry.content)) return;
          filesScanned++;
          for (const match of scanText(entry.content.toString('utf8'), options.ruleSet)) {
            fileSecrets.push({
              path: entry.path.replace(/^(?:\.?\/)+/, ''),
              layer: index,
              line: match.line,
              ruleId: match.rule.id,
              title: match.rule.title,
              severity: match.rule.severity,
              redacted: redactSecret(match.secret),
              fingerprint: secretFingerprint(match.rule.id, match.secret),
            });
          }
        },
      });
      fs.applyLayer(result.entries, index);
      bytesRead += result.bytes;
      compressions.push(result.compression);
      if (result.digestMismatch !== undefined) problems.push({ path: `${target}:${layer.path}`, message: result.digestMismatch });
    } catch (error) {
      if (!(error instanceof LayerNotReadable || (error as Error).name === 'TarFormatError' || (error as NodeJS.ErrnoException).code?.startsWith('Z_') === true)) throw error;
      compressions.push('unreadable');
      problems.push({ path: `${target}:${layer.path}`, message: `layer ${index + 1}: ${(error as Error).message}` });
    }
  }
  if (fs.unsafePaths > 0) problems.push({ path: target, message: `${fs.unsafePaths} layer member(s) with paths climbing out of the root (..) were ignored` });
  const { findings, facts } = checkImage({ image, fs, target, fileSecrets, ruleSet: options.ruleSet, maxPackages: options.maxPackages });
  return { root, target, findings, facts: { ...facts, layerCompression: compressions, layerBytes: bytesRead }, problems, filesScanned };
}

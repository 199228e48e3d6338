import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { BaselineProblem } from '../baseline-report.js';

/**
 * YAML documents from Kubernetes manifests and compose files, parsed with the `yaml` package
 * (YAML 1.2; anchors, multi-document streams), each with a way back from a key path to its line.
 */
export interface ManifestDocument {
  /** Relative to the scanned root, with `/`. */
  readonly file: string;
  /** 0-based position in a multi-document file. */
  readonly index: number;
  readonly value: unknown;
  /** The 1-based line of the node at `path`, or of its nearest ancestor that exists. */
  lineOf(path: readonly (string | number)[]): number;
}

export const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;
const YAML_FILE = /\.(?:ya?ml)$/i;
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', 'vendor', 'dist']);

/** The YAML files under `root` (or `root` itself), in path order, skipping node_modules and .git. */
export function findManifestFiles(root: string): string[] {
  if (statSync(root).isFile()) return [root];
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.isFile() && YAML_FILE.test(entry.name)) found.push(join(dir, entry.name));
    }
  };
  walk(root);
  return found;
}

export function relativeName(root: string, file: string): string {
  const name = relative(root, file);
  return (name === '' ? file.split(sep).at(-1)! : name).split(sep).join('/');
}

export function readManifestDocuments(file: string, name: string, problems: BaselineProblem[]): ManifestDocument[] {
  const size = statSync(file).size;
  if (size > MAX_MANIFEST_BYTES) {
    problems.push({ path: name, message: `${size} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have` });
    return [];
  }
  const text = readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  let documents: Document.Parsed[];
  try {
    documents = parseAllDocuments(text, { lineCounter, uniqueKeys: false }) as Document.Parsed[];
  } catch (error) {
    problems.push({ path: name, message: `not YAML: ${(error as Error).message}` });
    return [];
  }
  if (!Array.isArray(documents)) return [];
  const out: ManifestDocument[] = [];
  documents.forEach((document, index) => {
    if (document.errors.length > 0) {
      problems.push({ path: name, message: `document ${index + 1} is not valid YAML (${document.errors[0]!.message.split('\n')[0]}); a template (Helm) must be rendered first` });
      return;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      problems.push({ path: name, message: `document ${index + 1}: ${(error as Error).message}` });
      return;
    }
    if (value === null || typeof value !== 'object') return;
    out.push({
      file: name,
      index,
      value,
      lineOf(path) {
        for (let length = path.length; length >= 0; length--) {
          const node = document.getIn(path.slice(0, length), true) as { range?: [number, number, number] } | undefined;
          if (node?.range !== undefined) return lineCounter.linePos(node.range[0]).line;
        }
        return 1;
      },
    });
  });
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

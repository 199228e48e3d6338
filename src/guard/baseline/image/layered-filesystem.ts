import type { TarEntryKind } from '../../../infra/tar/tar-reader.js';

/**
 * The filesystem an image's layers add up to, as the OCI image spec's layer.md defines it:
 * layers applied in order; in each, `.wh.NAME` deletes NAME (and everything under it) from the
 * layers below, and `.wh..wh..opq` empties its directory of what the layers below put there.
 * Whiteouts apply to lower layers only, so entries of the same layer survive whatever order the
 * tar lists them in: a layer's whiteouts are applied first, then its entries.
 *
 * Nodes keep metadata (type, mode, owner, size, link target) and, for the few files the checks
 * read (/etc/passwd, os-release, package databases), their content.
 */
export interface FileNode {
  readonly kind: TarEntryKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly linkpath: string;
  /** 0-based index of the layer that put it there. */
  readonly layer: number;
  readonly content?: Buffer;
  children?: Map<string, FileNode>;
}

export interface LayerEntry {
  readonly path: string;
  readonly kind: TarEntryKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly linkpath: string;
  readonly content?: Buffer;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** A member's path as a list of names, or undefined for paths that climb out with `..`. */
export function pathSegments(path: string): string[] | undefined {
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  return segments.includes('..') ? undefined : segments;
}

function directory(layer: number): FileNode {
  return { kind: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, linkpath: '', layer, children: new Map() };
}

export class LayeredFilesystem {
  readonly root: FileNode = directory(-1);
  /** Entries skipped because their path climbs out of the root. */
  unsafePaths = 0;

  /** Applies one layer's entries (whiteouts included), `layer` being its 0-based index. */
  applyLayer(entries: readonly LayerEntry[], layer: number): void {
    const additions: Array<{ segments: string[]; entry: LayerEntry }> = [];
    for (const entry of entries) {
      const segments = pathSegments(entry.path);
      if (segments === undefined) {
        this.unsafePaths++;
        continue;
      }
      const name = segments.at(-1);
      if (name === OPAQUE) {
        const dir = this.#lookup(segments.slice(0, -1), false);
        if (dir?.children !== undefined) dir.children.clear();
      } else if (name?.startsWith(WHITEOUT_PREFIX) === true) {
        const parent = this.#lookup(segments.slice(0, -1), false);
        parent?.children?.delete(name.slice(WHITEOUT_PREFIX.length));
      } else if (segments.length > 0) additions.push({ segments, entry });
    }
    for (const { segments, entry } of additions) this.#add(segments, entry, layer);
  }

  #add(segments: string[], entry: LayerEntry, layer: number): void {
    let dir = this.root;
    for (const name of segments.slice(0, -1)) {
      let next = dir.children!.get(name);
      if (next?.children === undefined) {
        // A missing parent, or a file or link where a directory now is: an implicit directory.
        next = directory(layer);
        dir.children!.set(name, next);
      }
      dir = next;
    }
    const name = segments.at(-1)!;
    const existing = dir.children!.get(name);
    const node: FileNode = { kind: entry.kind, mode: entry.mode, uid: entry.uid, gid: entry.gid, size: entry.size, linkpath: entry.linkpath, layer, ...(entry.content === undefined ? {} : { content: entry.content }) };
    // A directory entry over an existing directory keeps what is inside (tar semantics).
    if (entry.kind === 'directory') node.children = existing?.children ?? new Map();
    dir.children!.set(name, node);
  }

  /** The node at `segments`, following symbolic links on the way when `follow` is set. */
  #lookup(segments: readonly string[], follow: boolean, depth = 0): FileNode | undefined {
    if (depth > 40) return undefined;
    let node = this.root;
    const walked: string[] = [];
    for (let index = 0; index < segments.length; index++) {
      const child = node.children?.get(segments[index]!);
      if (child === undefined) return undefined;
      walked.push(segments[index]!);
      const last = index === segments.length - 1;
      if (child.kind === 'symlink' && follow) {
        const target = child.linkpath.startsWith('/') ? child.linkpath : `${walked.slice(0, -1).join('/')}/${child.linkpath}`;
        const resolved = resolveDots(target);
        return this.#lookup([...resolved, ...segments.slice(index + 1)], follow, depth + 1);
      }
      if (last) return child;
      node = child;
    }
    return node;
  }

  /** The node at `path` (`/etc/passwd` or `etc/passwd`), symbolic links followed. */
  get(path: string): FileNode | undefined {
    return this.#lookup(resolveDots(path), true);
  }

  /** The node at `path` itself: a symbolic link is returned, not followed (its parents are). */
  getOwn(path: string): FileNode | undefined {
    const segments = resolveDots(path);
    if (segments.length === 0) return this.root;
    const parent = this.#lookup(segments.slice(0, -1), true);
    return parent?.children?.get(segments.at(-1)!);
  }

  /** Every path and node, depth first, in name order. */
  *walk(node: FileNode = this.root, prefix = ''): Generator<[string, FileNode]> {
    for (const [name, child] of [...(node.children ?? new Map<string, FileNode>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      yield [path, child];
      if (child.children !== undefined) yield* this.walk(child, path);
    }
  }
}

/** `a/./b/../c` → [a, c]; `..` at the root stays at the root, as the kernel resolves it. */
function resolveDots(path: string): string[] {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return out;
}

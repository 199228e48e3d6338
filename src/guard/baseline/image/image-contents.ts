import { parseControlStanzas } from '../../deps/manifests/dpkg-status.js';
import { parseOsRelease } from '../../deps/manifests/os-release.js';
import type { LayeredFilesystem } from './layered-filesystem.js';

/**
 * What the checks read from an image's final filesystem: the users (/etc/passwd), the
 * distribution (os-release(5)), and the installed packages (dpkg's status file or distroless's
 * status.d/, Alpine's lib/apk/db/installed). These are the files whose content the layer reader
 * keeps; nothing else is held in memory.
 */
export const CONTENT_FILES: readonly string[] = ['etc/passwd', 'etc/group', 'etc/os-release', 'usr/lib/os-release', 'var/lib/dpkg/status', 'lib/apk/db/installed'];
const DPKG_STATUS_D = /^var\/lib\/dpkg\/status\.d\/[^/]+$/;

export function isContentFile(path: string): boolean {
  const clean = path.replace(/^(?:\.?\/)+/, '');
  return CONTENT_FILES.includes(clean) || DPKG_STATUS_D.test(clean);
}

export interface InstalledPackages {
  /** Where the list came from, for the report. */
  readonly databases: readonly string[];
  readonly names: readonly string[];
}

const PRESENT_STATES = new Set(['installed', 'half-installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending']);

function text(fs: LayeredFilesystem, path: string): string | undefined {
  const node = fs.get(path);
  return node?.content === undefined ? undefined : node.content.toString('utf8');
}

export function installedPackages(fs: LayeredFilesystem): InstalledPackages {
  const names = new Set<string>();
  const databases: string[] = [];
  const dpkgStanzas = (body: string) => {
    for (const stanza of parseControlStanzas(body)) {
      const name = stanza.fields.get('package');
      const state = stanza.fields.get('status')?.split(/\s+/)[2];
      if (name !== undefined && (state === undefined || PRESENT_STATES.has(state))) names.add(name);
    }
  };
  const status = text(fs, 'var/lib/dpkg/status');
  if (status !== undefined) {
    databases.push('var/lib/dpkg/status');
    dpkgStanzas(status);
  }
  const statusDirectory = fs.get('var/lib/dpkg/status.d');
  if (statusDirectory?.children !== undefined && statusDirectory.children.size > 0) {
    databases.push('var/lib/dpkg/status.d/');
    for (const child of statusDirectory.children.values()) if (child.content !== undefined) dpkgStanzas(child.content.toString('utf8'));
  }
  const apk = text(fs, 'lib/apk/db/installed');
  if (apk !== undefined) {
    databases.push('lib/apk/db/installed');
    for (const line of apk.split('\n')) if (line.startsWith('P:')) names.add(line.slice(2).trim());
  }
  return { databases, names: [...names].sort() };
}

export function osRelease(fs: LayeredFilesystem): { path: string; values: Map<string, string>; text: string } | undefined {
  for (const path of ['etc/os-release', 'usr/lib/os-release']) {
    const body = text(fs, path);
    if (body !== undefined) return { path, values: parseOsRelease(body), text: body };
  }
  return undefined;
}

/** name → uid from /etc/passwd (passwd(5): name:password:UID:GID:GECOS:directory:shell). */
export function passwdUsers(fs: LayeredFilesystem): Map<string, number> | undefined {
  const body = text(fs, 'etc/passwd');
  if (body === undefined) return undefined;
  const users = new Map<string, number>();
  for (const line of body.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4 || fields[0] === '' || !/^\d+$/.test(fields[2]!)) continue;
    if (!users.has(fields[0]!)) users.set(fields[0]!, Number(fields[2]));
  }
  return users;
}

import type { InstalledPackage, PackageManifest } from './package-manifest.js';

/**
 * requirements.txt as pip reads it (https://pip.pypa.io/en/stable/reference/requirements-file-format/):
 * one requirement per line, `\` continuing a line, `#` after whitespace starting a comment. Only a
 * requirement pinned to one version with `==` (or `===`) names what gets installed, e.g.
 * `Django[argon2]==4.2.1 ; python_version >= "3.9" --hash=sha256:…` as pip-compile writes them; a
 * range (`>=`, `~=`, `==4.*`), a URL, a VCS checkout, an editable install or an option line
 * (`-r other.txt`, `--index-url`) does not, and is counted in a note instead of guessed.
 */
const PINNED = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;*,]+)\s*(?:;.*)?$/;

/** The logical lines: continuations joined, comments and pip's per-requirement options removed, with the line each starts on. */
function logicalLines(text: string): Array<{ text: string; line: number }> {
  const lines: Array<{ text: string; line: number }> = [];
  let pending: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const continued = raw.endsWith('\\');
    const part = continued ? raw.slice(0, -1) : raw;
    pending = pending === undefined ? { text: part, line: index + 1 } : { text: `${pending.text} ${part}`, line: pending.line };
    if (continued) return;
    lines.push(pending);
    pending = undefined;
  });
  if (pending !== undefined) lines.push(pending);
  return lines
    .map(({ text: line, line: number }) => ({ text: line.replace(/(^|\s)#.*$/, '').replace(/\s--hash[=\s]\S+/g, '').trim(), line: number }))
    .filter((line) => line.text !== '');
}

export function readPipRequirements(text: string, path: string): PackageManifest {
  const packages: InstalledPackage[] = [];
  let unpinned = 0;
  for (const { text: requirement, line } of logicalLines(text)) {
    const pinned = PINNED.exec(requirement);
    if (pinned === null) {
      unpinned++;
      continue;
    }
    packages.push({ ecosystem: 'PyPI', name: pinned[1]!, version: pinned[2]!, line, paths: [] });
  }
  return { kind: 'pip-requirements', path, packages, notes: unpinned === 0 ? [] : [`${unpinned} line(s) not pinned with == (ranges, URLs, editable installs, -r/-c and other options) not checked`] };
}

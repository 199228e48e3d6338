/**
 * Debian version ordering, exactly as dpkg implements it (lib/dpkg/version.c, `dpkg_version_compare`
 * and `verrevcmp`) and Debian Policy §5.6.12 describes it:
 *
 * - `[epoch:]upstream_version[-debian_revision]`; the epoch is a number (absent = 0), the revision
 *   is everything after the last hyphen (absent = "", which compares equal to "0").
 * - Epochs compare numerically; upstream versions, then revisions, compare left to right in
 *   alternating runs: a run of non-digits compared character by character, where `~` sorts before
 *   everything (even the end of the string), then the end of the string, then letters, then every
 *   other character (in ASCII order); then a run of digits compared numerically (absent = 0).
 */
export interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/** The parts of a version, or undefined for a string dpkg would refuse (empty, bad epoch, spaces). */
export function parseDpkgVersion(text: string): DpkgVersion | undefined {
  const version = text.trim();
  if (version === '' || /\s/.test(version)) return undefined;
  const colon = version.indexOf(':');
  let epoch = 0;
  if (colon !== -1) {
    const epochText = version.slice(0, colon);
    if (!/^\d+$/.test(epochText)) return undefined;
    epoch = Number(epochText);
    if (!Number.isSafeInteger(epoch)) return undefined;
  }
  const rest = version.slice(colon + 1);
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen === -1 ? rest : rest.slice(0, hyphen);
  const revision = hyphen === -1 ? '' : rest.slice(hyphen + 1);
  if (upstream === '' || (hyphen !== -1 && revision === '')) return undefined;
  return { epoch, upstream, revision };
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** dpkg's `order()`: the weight of one character in a non-digit run; NaN (end of string) is 0. */
function order(code: number): number {
  if (Number.isNaN(code) || isDigit(code)) return 0;
  if (isLetter(code)) return code;
  if (code === 126 /* ~ */) return -1;
  return code + 256;
}

/** dpkg's `verrevcmp`: compares one upstream version or one revision. */
export function compareVersionPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return Math.sign(ac - bc);
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return Math.sign(firstDiff);
  }
  return 0;
}

export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareVersionPart(a.upstream, b.upstream) || compareVersionPart(a.revision, b.revision);
}

/**
 * The OSV ecosystem of a Debian or Ubuntu system from os-release(5): ID=debian, VERSION_ID="12" →
 * "Debian:12"; ID=ubuntu, VERSION_ID="22.04" → "Ubuntu:22.04" (matched against OSV's
 * "Ubuntu:22.04" and "Ubuntu:22.04:LTS", not "Ubuntu:Pro:…", which needs an ESM subscription).
 * Derivatives (ID_LIKE=debian) and Debian testing/unstable (no VERSION_ID) are undefined: their
 * packages are not Debian's stable ones, and guessing a release would report the wrong fixes.
 */
export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match === null) continue;
    values.set(match[1]!, match[2]!.replace(/^(["'])(.*)\1$/, '$2'));
  }
  return values;
}

export function ecosystemFromOsRelease(text: string): string | undefined {
  const values = parseOsRelease(text);
  const id = values.get('ID');
  const version = values.get('VERSION_ID');
  if (version === undefined) return undefined;
  if (id === 'debian' && /^\d+$/.test(version)) return `Debian:${version}`;
  if (id === 'ubuntu' && /^\d+\.\d+$/.test(version)) return `Ubuntu:${version}`;
  return undefined;
}

/** Whether an advisory's ecosystem applies to packages of the installed ecosystem. */
export function ecosystemApplies(installed: string, advisory: string): boolean {
  if (installed === advisory) return true;
  // OSV suffixes Ubuntu LTS releases: "Ubuntu:22.04:LTS".
  return installed.startsWith('Ubuntu:') && advisory.startsWith(`${installed}:`);
}

/**
 * Python package versions as PEP 440 orders them (https://peps.python.org/pep-0440/, "Version
 * scheme"), the order OSV's PyPI `ECOSYSTEM` ranges use. The parse is the specification's own
 * permissive pattern (Appendix B: `alpha`, `c`, `-1` for a post-release, `v`, upper case, `_`
 * separators are all accepted and normalized); the order is the one pip's `packaging` library
 * implements:
 *
 *   epoch, then the release (trailing zeros ignored: 1.0 == 1.0.0), then
 *   1.0.dev1 < 1.0a1.dev1 < 1.0a1 < 1.0a1.post1 < 1.0b1 < 1.0rc1 < 1.0 < 1.0.post1.dev1 < 1.0.post1,
 *   and a local version (+ubuntu1) above the same public version.
 *
 * Numbers are BigInts: nothing stops a release segment from being a date (20240101123456).
 */
export interface Pep440Version {
  readonly epoch: bigint;
  /** Release segment without trailing zeros. */
  readonly release: readonly bigint[];
  readonly pre?: { readonly phase: 'a' | 'b' | 'rc'; readonly number: bigint };
  readonly post?: bigint;
  readonly dev?: bigint;
  /** Local version segments (after `+`), numbers as BigInt, others lower-cased. */
  readonly local?: ReadonlyArray<bigint | string>;
}

const VERSION =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

const PHASES: Readonly<Record<string, 'a' | 'b' | 'rc'>> = { alpha: 'a', a: 'a', beta: 'b', b: 'b', preview: 'rc', pre: 'rc', c: 'rc', rc: 'rc' };

export function parsePep440(text: string): Pep440Version | undefined {
  const match = VERSION.exec(text);
  if (match === null) return undefined;
  const [, epoch, release, preLabel, preNumber, postDash, postLabel, postNumber, devLabel, devNumber, local] = match;
  const segments = release!.split('.').map(BigInt);
  while (segments.length > 1 && segments.at(-1) === 0n) segments.pop();
  return {
    epoch: BigInt(epoch ?? 0),
    release: segments,
    ...(preLabel === undefined ? {} : { pre: { phase: PHASES[preLabel.toLowerCase()]!, number: BigInt(preNumber ?? 0) } }),
    ...(postDash !== undefined ? { post: BigInt(postDash) } : postLabel !== undefined ? { post: BigInt(postNumber ?? 0) } : {}),
    ...(devLabel === undefined ? {} : { dev: BigInt(devNumber ?? 0) }),
    ...(local === undefined ? {} : { local: local.toLowerCase().split(/[-_.]/).map((part) => (/^\d+$/.test(part) ? BigInt(part) : part)) }),
  };
}

function sign(a: bigint | number | string, b: bigint | number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const PHASE_RANK = { a: 0, b: 1, rc: 2 } as const;

/** Where the pre-release part puts a version among those with the same release (packaging's _cmpkey). */
function preKey(version: Pep440Version): [number, number, bigint] {
  // A dev release of a final version (1.0.dev1) comes before its pre-releases (1.0a1).
  if (version.pre === undefined && version.post === undefined && version.dev !== undefined) return [-1, 0, 0n];
  if (version.pre === undefined) return [1, 0, 0n];
  return [0, PHASE_RANK[version.pre.phase], version.pre.number];
}

function compareLocal(a: ReadonlyArray<bigint | string>, b: ReadonlyArray<bigint | string>): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const x = a[index]!;
    const y = b[index]!;
    // A number sorts above letters; letters compare as text.
    if (typeof x !== typeof y) return typeof x === 'bigint' ? 1 : -1;
    const order = sign(x, y);
    if (order !== 0) return order;
  }
  return Math.sign(a.length - b.length);
}

export function comparePep440(a: Pep440Version, b: Pep440Version): number {
  const epoch = sign(a.epoch, b.epoch);
  if (epoch !== 0) return epoch;
  for (let index = 0; index < Math.max(a.release.length, b.release.length); index++) {
    const order = sign(a.release[index] ?? 0n, b.release[index] ?? 0n);
    if (order !== 0) return order;
  }
  const [aPre, bPre] = [preKey(a), preKey(b)];
  for (let index = 0; index < 3; index++) {
    const order = sign(aPre[index]!, bPre[index]!);
    if (order !== 0) return order;
  }
  // No post-release sorts below any post-release; no dev release above any dev release.
  if (a.post !== b.post) return a.post === undefined ? -1 : b.post === undefined ? 1 : sign(a.post, b.post);
  if (a.dev !== b.dev) return a.dev === undefined ? 1 : b.dev === undefined ? -1 : sign(a.dev, b.dev);
  if (a.local === undefined || b.local === undefined) return a.local === b.local ? 0 : a.local === undefined ? -1 : 1;
  return compareLocal(a.local, b.local);
}

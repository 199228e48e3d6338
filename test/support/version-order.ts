import assert from 'node:assert/strict';
import type { VersionScheme } from '../../src/guard/deps/versions/ecosystem-versions.js';

/** The order `scheme` gives two versions that must both parse. */
export function compareIn(scheme: VersionScheme, a: string, b: string): number {
  const order = scheme.compare(a, b);
  assert.ok(order !== undefined, `${a} and ${b} parse as ${scheme.name} versions`);
  return order;
}

/** Asserts that `versions` ascend strictly in `scheme`: every pair, both ways, and each equal to itself. */
export function assertAscendingIn(scheme: VersionScheme, versions: readonly string[]): void {
  for (let i = 0; i < versions.length; i++) {
    for (let j = 0; j < versions.length; j++) assert.equal(compareIn(scheme, versions[i]!, versions[j]!), Math.sign(i - j), `${versions[i]} vs ${versions[j]}`);
  }
}

/**
 * `holdfast_drill_20260601t030000z_3f9a1c`: a drill's scratch database, named after the drill.
 * Letters, digits and `_` only, so it needs no quoting in MariaDB or PostgreSQL, and at most 63
 * characters (PostgreSQL's NAMEDATALEN - 1; MariaDB allows 64).
 */
export function scratchDatabaseName(id: string): string {
  return `holdfast_drill_${id.toLowerCase().replace(/[^a-z0-9]/g, '_')}`.slice(0, 63);
}

/** Teardown drops only what a drill named: never a database a typo or a tampered journal points at. */
export function checkScratchDatabaseName(database: string): void {
  if (!/^holdfast_drill_[a-z0-9_]+$/.test(database)) throw new Error(`refusing to drop ${JSON.stringify(database)}: not a drill's scratch database`);
}

import { readFile } from 'node:fs/promises';

/** The mount that holds `dir`, from /proc/mounts (longest matching mount point). */
export async function filesystemOf(dir: string): Promise<string> {
  try {
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((line) => line.split(' '));
    let best: string[] | undefined;
    for (const fields of mounts) {
      const point = fields[1];
      if (point === undefined || !(dir === point || dir.startsWith(point.endsWith('/') ? point : `${point}/`))) continue;
      if (best === undefined || point.length > (best[1]?.length ?? 0)) best = fields;
    }
    return best === undefined ? 'unknown' : `${best[2]} on ${best[0]}, mounted at ${best[1]}`;
  } catch {
    return 'unknown';
  }
}

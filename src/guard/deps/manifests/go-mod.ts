import type { InstalledPackage, PackageManifest } from './package-manifest.js';

/**
 * A Go module's go.mod (https://go.dev/ref/mod#go-mod-file). Since Go 1.17 it lists every module
 * the build needs (`// indirect` ones included), which makes it the lockfile; go.sum also holds
 * hashes of modules only consulted for the module graph, so it would report modules never built.
 * `replace` directives are applied: a module replaced by another module version is checked as
 * that version; one replaced by a local directory is the team's own code and is not checked.
 * Versions are compared without Go's leading "v", as OSV writes them.
 */
function unquote(token: string): string {
  return token.startsWith('"') || token.startsWith('`') ? token.slice(1, -1) : token;
}

function tokens(line: string): string[] {
  const code = line.replace(/\/\/.*$/, '').trim();
  return code === '' ? [] : code.split(/\s+/).map(unquote);
}

export function readGoMod(text: string, path: string): PackageManifest {
  const required = new Map<string, { version: string; line: number }>();
  const replaced: Array<{ from: string; fromVersion?: string; to: string; toVersion?: string }> = [];
  let block: string | undefined;
  text.split('\n').forEach((raw, index) => {
    let words = tokens(raw);
    if (words.length === 0) return;
    if (block !== undefined) {
      if (words[0] === ')') {
        block = undefined;
        return;
      }
      words = [block, ...words];
    } else if (words[1] === '(' && words.length === 2) {
      block = words[0];
      return;
    }
    const [verb, ...args] = words;
    if (verb === 'require' && args.length >= 2) required.set(args[0]!, { version: args[1]!, line: index + 1 });
    if (verb === 'replace') {
      const arrow = args.indexOf('=>');
      if (arrow === 1 || arrow === 2) {
        const target = args.slice(arrow + 1);
        replaced.push({ from: args[0]!, ...(arrow === 2 ? { fromVersion: args[1]! } : {}), to: target[0]!, ...(target[1] === undefined ? {} : { toVersion: target[1] }) });
      }
    }
  });
  let local = 0;
  const packages: InstalledPackage[] = [];
  for (const [module, { version, line }] of required) {
    const replacement = replaced.find((rule) => rule.from === module && (rule.fromVersion === undefined || rule.fromVersion === version));
    if (replacement !== undefined && replacement.toVersion === undefined) {
      local++;
      continue;
    }
    const name = replacement?.to ?? module;
    const chosen = replacement?.toVersion ?? version;
    packages.push({ ecosystem: 'Go', name, version: chosen.replace(/^v/, ''), line, paths: replacement === undefined ? [] : [`${module} => ${name}`] });
  }
  return { kind: 'go-mod', path, packages, notes: local === 0 ? [] : [`${local} module(s) replaced by a local directory not checked`] };
}

#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/server-config.js';
import { EXIT_USAGE, EXIT_FAILURE } from './exit-codes.js';

const USAGE = `holdfast — immutable S3-compatible vault, backups and configuration guard

Usage:
  holdfast server [--data DIR] [--listen HOST:PORT] [--config FILE] [--region NAME]
                  [--virtual-host-domain DOMAIN] [--confirm-clock]
  holdfast admin buckets|users|keys|roles|approvals|alerts …   (see holdfast admin --help)
  holdfast audit verify|export|checkpoints                        (see holdfast audit --help)
  holdfast jobs list | run JOB | history [JOB] | restore JOB --into TARGET
                  scheduled backup jobs of a running server   (see holdfast jobs --help)
  holdfast drill run JOB      a restore drill of a job's newest run, in the server (see holdfast drill --help)
  holdfast evidence list [--kind job-runs|drills] [--limit N] | show KIND ID
                  write-once evidence of job runs and drills    (see holdfast evidence --help)
  holdfast baseline capture --items FILE | approve ID | reject ID | list | show ID | page [--format md|html]
  holdfast drift check --items FILE | history
  holdfast changes propose --title T --risk R --expect FILE | review ID --approve|--reject --comment C
                  | apply ID | list | show ID
  holdfast reviews due | sign-off COMPONENT --notes TEXT
                  configuration baselines, drift, peer-reviewed changes and periodic reviews
                  kept by a running server (see holdfast baseline --help)
  holdfast agent --config FILE --data DIR | agent jobs list|history
                  the job scheduler on another host, with writer credentials only   (see holdfast agent --help)
  holdfast pg wal-push|wal-fetch|backup|list|show|verify|restore|drill|prune|keygen …
                  PostgreSQL: archiving, base backups, point-in-time restores, drills, retention
                  --repo s3://BUCKET/PREFIX --endpoint URL                        (see holdfast pg help)
  holdfast scan secrets [PATH] [--git | --staged] [--json | --sarif FILE] [--fail-on SEVERITY]
                  secrets in a tree, a repository's history or the next commit   (see holdfast scan help)
  holdfast scan deps [PATH] [--db FILE] [--json | --sarif FILE] [--fail-on SEVERITY] [--max-age DAYS]
                  known vulnerabilities in npm/Go/Cargo lockfiles and dpkg databases   (see holdfast scan deps --help)
  holdfast config collect|check|rules [--sources FILE] [--terraform FILE]... [--zone FILE[:ORIGIN]]...
                  [--env FILE]... [--image PATH]... [--manifests PATH]... [--vault-endpoint URL]
                  [--postgres CONNSTR] [--out FILE] [--json]
                  configuration items and the rules on them   (see holdfast config help)
  holdfast vulndb import FILE.zip|DIR... | status   [--db FILE]
                  the offline OSV vulnerability database scan deps uses   (see holdfast vulndb help)
  holdfast cert --out DIR [--name HOST-OR-IP]... [--days N] [--force] [--json]
                  a self-signed TLS certificate for tlsCertFile/tlsKeyFile
  holdfast version
  holdfast help

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error, 3 refused by the server,
4 a check found problems (audit verify, scan, a failed drill, unexplained drift, overdue reviews).
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    // Each command is loaded only when it runs: `holdfast pg wal-push` is PostgreSQL's
    // archive_command, started once per WAL segment, and must not pay for the server's imports.
    case 'server':
      return (await import('./server-command.js')).runServerCommand(rest);
    case 'admin':
      return (await import('./admin-command.js')).runAdminCommand(rest);
    case 'audit':
      return (await import('./audit-command.js')).runAuditCommand(rest);
    case 'jobs':
      return (await import('./jobs-command.js')).runJobsCommand(rest);
    case 'drill':
      return (await import('./drill-command.js')).runDrillCommand(rest);
    case 'evidence':
      return (await import('./evidence-command.js')).runEvidenceCommand(rest);
    case 'baseline':
      return (await import('./baseline-command.js')).runBaselineCommand(rest);
    case 'drift':
      return (await import('./drift-command.js')).runDriftCommand(rest);
    case 'changes':
      return (await import('./changes-command.js')).runChangesCommand(rest);
    case 'reviews':
      return (await import('./reviews-command.js')).runReviewsCommand(rest);
    case 'agent':
      return (await import('./agent-command.js')).runAgentCommand(rest);
    case 'cert':
      return (await import('./cert-command.js')).runCertCommand(rest);
    case 'pg':
      // restore_command: the leanest path of all, a rename when the prefetch spool has the segment.
      if (rest[0] === 'wal-fetch') return (await import('./pg-wal-fetch-command.js')).runWalFetchCommand(rest.slice(1));
      return (await import('./pg-command.js')).runPgCommand(rest);
    case 'scan':
      return (await import('./scan-command.js')).runScanCommand(rest);
    case 'config':
      return (await import('./config-command.js')).runConfigCommand(rest);
    case 'vulndb':
      return (await import('./vulndb-command.js')).runVulndbCommand(rest);
    case 'version':
    case '--version': {
      // dist/src/cli/main.js → the package root is three levels up.
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`holdfast ${pkg.version}\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? EXIT_USAGE : 0;
    default:
      process.stderr.write(`holdfast: unknown command "${command}". Run \`holdfast help\` for the list of commands.\n`);
      return EXIT_USAGE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`holdfast: ${error.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(`holdfast: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);

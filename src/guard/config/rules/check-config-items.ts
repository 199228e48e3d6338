import type { Clock } from '../../../infra/clock.js';
import { severityRank } from '../../severity.js';
import type { ConfigItem } from '../config-item.js';
import type { ConfigFinding } from './config-finding.js';
import { applySuppressions, type ConfigSuppression } from './config-suppressions.js';
import { networkFindings } from './network-checks.js';
import { DEFAULT_BACKUP_BUCKET_PATTERN, storageFindings } from './storage-checks.js';
import { workloadFindings } from './workload-checks.js';

export interface CheckOptions {
  readonly clock: Clock;
  /** A regular expression (case-insensitive) over bucket names and tags; default "backup". */
  readonly backupBuckets?: string;
  readonly suppressions?: readonly ConfigSuppression[];
}

export class BackupPatternError extends Error {
  override readonly name = 'BackupPatternError';
}

export function backupBucketPattern(text: string | undefined): RegExp {
  try {
    return new RegExp(text ?? DEFAULT_BACKUP_BUCKET_PATTERN, 'i');
  } catch (error) {
    throw new BackupPatternError(`the backup bucket pattern "${text}" is not a regular expression (${(error as Error).message}); e.g. "backup|wal-archive"`);
  }
}

/** Every rule over the items; findings ordered by severity, component and resource, suppressions applied. */
export function checkConfigItems(items: readonly ConfigItem[], options: CheckOptions): ConfigFinding[] {
  const findings = [...networkFindings(items), ...storageFindings(items, { backupBuckets: backupBucketPattern(options.backupBuckets) }), ...workloadFindings(items)];
  findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.component.localeCompare(b.component) || a.resourceId.localeCompare(b.resourceId) || a.ruleId.localeCompare(b.ruleId) || a.evidence.localeCompare(b.evidence));
  return applySuppressions(findings, options.suppressions ?? [], options.clock);
}

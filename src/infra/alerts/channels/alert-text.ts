import { ALERT_SUBJECT_FIELDS, type SecurityAlert } from '../../../domain/alerts/security-alert.js';

/**
 * The plain-text rendering shared by email and Slack: every field of the alert, one per line,
 * so a reader on a phone sees the whole story without opening a dashboard.
 */
export function alertTextLines(alert: SecurityAlert): string[] {
  const lines = [
    oneLine(alert.summary),
    '',
    `Rule:        ${alert.rule}`,
    `Severity:    ${alert.severity}`,
    `Time:        ${new Date(alert.atMs).toISOString()}`,
  ];
  if (alert.occurrences > 1) {
    lines.push(`Occurrences: ${alert.occurrences} (coalesced; last at ${new Date(alert.lastAtMs).toISOString()})`);
  }
  for (const field of ALERT_SUBJECT_FIELDS) {
    const value = alert.subject?.[field];
    if (value !== undefined) lines.push(`${`${label(field)}:`.padEnd(13)}${oneLine(value)}`);
  }
  const details = Object.entries(alert.details);
  if (details.length > 0) {
    lines.push('', 'Details:');
    for (const [key, value] of details) lines.push(`  ${oneLine(key)}: ${value === null ? 'null' : oneLine(String(value))}`);
  }
  lines.push('', `Alert id:    ${alert.id}`);
  return lines;
}

export function alertText(alert: SecurityAlert): string {
  return `${alertTextLines(alert).join('\n')}\n`;
}

/** `[Holdfast] <severity>: <title>`, as one header-safe line. */
export function alertHeadline(alert: SecurityAlert): string {
  return `[Holdfast] ${alert.severity}: ${oneLine(alert.title)}`;
}

const LABELS: Record<(typeof ALERT_SUBJECT_FIELDS)[number], string> = {
  identity: 'Identity',
  accessKeyId: 'Access key',
  sourceIp: 'Source IP',
  bucket: 'Bucket',
  key: 'Key',
  versionId: 'Version',
};

function label(field: (typeof ALERT_SUBJECT_FIELDS)[number]): string {
  return LABELS[field];
}

/**
 * Object keys may hold any character, newlines included; a value must not be able to forge a
 * line (or an email header) of its own, so control characters become spaces.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
}

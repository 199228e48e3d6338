import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';
import { alertHeadline, alertTextLines } from './alert-text.js';

/**
 * A Slack incoming-webhook message: `text` (the notification and fallback) plus Block Kit
 * `blocks`. Slack's limits are respected — a header block's plain_text is at most 150
 * characters, a section's text at most 3,000 (Block Kit reference, "Header block" and
 * "Section block") — and `&`, `<`, `>` are escaped as Slack's "Formatting text for app
 * surfaces" → "Escaping text" requires, so an object key cannot inject a mention or a link.
 * Mattermost and Rocket.Chat accept the same shape.
 */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: ReadonlyArray<Record<string, unknown>>;
}

export function slackPayload(alert: SecurityAlert): SlackMessage {
  const headline = alertHeadline(alert);
  const body = alertTextLines(alert).join('\n');
  return {
    text: escape(`${headline} — ${alert.summary}`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(headline, 150), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(`\`\`\`${escape(body)}\`\`\``, 3000, '…```') } },
    ],
  };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number, ellipsis = '…'): string {
  return text.length <= max ? text : `${text.slice(0, max - ellipsis.length)}${ellipsis}`;
}

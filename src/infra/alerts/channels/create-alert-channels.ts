import { readFileSync } from 'node:fs';
import type { AlertChannel } from '../../../domain/alerts/alert-channel.js';
import type { Clock } from '../../clock.js';
import { AlertConfigError, type AlertChannelConfig } from './alert-channel-config.js';
import { LogChannel, type LogLineWriter } from './log-channel.js';
import { SmtpChannel } from './smtp-channel.js';
import { WebhookChannel } from './webhook-channel.js';

export interface AlertChannelDependencies {
  readonly clock: Clock;
  /** Where `log` channels write their JSON lines. */
  readonly writeLogLine: LogLineWriter;
}

/** Builds the channels of a parsed `alerts.channels` setting; reads CA files now, so a bad path stops start-up. */
export function createAlertChannels(configs: readonly AlertChannelConfig[], deps: AlertChannelDependencies): AlertChannel[] {
  return configs.map((config) => {
    switch (config.kind) {
      case 'log':
        return new LogChannel(config.name, deps.writeLogLine);
      case 'webhook':
        return new WebhookChannel({ ...config, ca: readCa(config.name, config.caFile), clock: deps.clock });
      case 'smtp':
        return new SmtpChannel({ ...config, ca: readCa(config.name, config.caFile) });
    }
  });
}

function readCa(channel: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new AlertConfigError(
      `Invalid configuration: alert channel "${channel}" caFile ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}). Fix: point caFile at a readable PEM file.`,
    );
  }
}

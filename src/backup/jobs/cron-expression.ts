/**
 * A 5-field cron expression, as Vixie cron reads it (crontab(5)):
 *
 *   minute (0-59)  hour (0-23)  day-of-month (1-31)  month (1-12 or JAN-DEC)  day-of-week (0-7 or SUN-SAT; 0 and 7 are Sunday)
 *
 * Each field is `*` or a comma-separated list of numbers, ranges `a-b`, and steps `*\/n`, `a-b/n`
 * or `a/n` (from a to the field's end). Names are case-insensitive and may bound a range
 * (`MON-FRI`). The macros `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`)
 * and `@hourly` stand for their usual expansions; `@reboot` has no meaning for a backup vault.
 *
 * Day of month and day of week: when both are restricted (neither field starts with `*`), a day
 * matches if EITHER matches — `0 3 1,15 * MON` runs on the 1st, the 15th and every Monday. This is
 * Vixie cron's rule; like it, a field that starts with `*` (`*`, `*\/2`) counts as unrestricted.
 */

export class CronSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronSyntaxError';
  }
}

export interface CronExpression {
  /** The text as given (macros unexpanded). */
  readonly text: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  /** 1-12. */
  readonly months: ReadonlySet<number>;
  /** 0-6, Sunday 0 (a 7 in the text is stored as 0). */
  readonly daysOfWeek: ReadonlySet<number>;
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
  /** Every hour of the day matches: the schedule is an interval, not a time of day (see cron-next-run.ts). */
  readonly everyHour: boolean;
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for the values from `min` on. */
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];

/** Days in each month in a leap year: what a day-of-month can ever reach. */
const MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseCronExpression(text: string): CronExpression {
  if (typeof text !== 'string' || text.trim() === '') throw new CronSyntaxError('the schedule is empty; give 5 fields such as "0 3 * * *" (03:00 every day) or a macro like @daily');
  const trimmed = text.trim();
  let body = trimmed;
  if (trimmed.startsWith('@')) {
    const expansion = MACROS[trimmed.toLowerCase()];
    if (expansion === undefined) {
      throw new CronSyntaxError(`unknown macro "${trimmed}"; the macros are ${Object.keys(MACROS).join(', ')}${trimmed.toLowerCase() === '@reboot' ? ' (@reboot has no meaning for a scheduled backup)' : ''}`);
    }
    body = expansion;
  }
  const parts = body.split(/\s+/);
  if (parts.length !== 5) {
    throw new CronSyntaxError(`"${trimmed}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; a schedule has 5: minute hour day-of-month month day-of-week (e.g. "0 3 * * *")`);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeekRaw] = parts.map((part, i) => parseField(part, FIELDS[i]!)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const daysOfWeek = new Set([...daysOfWeekRaw].map((d) => d % 7));
  const dayOfMonthRestricted = !parts[2]!.startsWith('*');
  const dayOfWeekRestricted = !parts[4]!.startsWith('*');
  if (dayOfMonthRestricted && !dayOfWeekRestricted) {
    const possible = [...months].some((m) => [...daysOfMonth].some((d) => d <= MAX_DAYS[m - 1]!));
    if (!possible) {
      throw new CronSyntaxError(`"${trimmed}" never runs: no month in the month field has day ${[...daysOfMonth].sort((a, b) => a - b).join(',')}`);
    }
  }
  return Object.freeze({
    text: trimmed,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    dayOfMonthRestricted,
    dayOfWeekRestricted,
    everyHour: hours.size === 24,
  });
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  if (text === '') throw new CronSyntaxError(`the ${spec.name} field is empty`);
  for (const item of text.split(',')) {
    if (item === '') throw new CronSyntaxError(`the ${spec.name} field "${text}" has an empty list item`);
    const slash = item.indexOf('/');
    const rangeText = slash < 0 ? item : item.slice(0, slash);
    let step = 1;
    if (slash >= 0) {
      const stepText = item.slice(slash + 1);
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new CronSyntaxError(`the ${spec.name} field "${text}" has step "${stepText}"; a step is a whole number of 1 or more`);
      step = Number(stepText);
      if (step > spec.max - spec.min + 1) throw new CronSyntaxError(`the ${spec.name} field "${text}" has step ${step}, larger than the field's range ${spec.min}-${spec.max}`);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = spec.min;
      to = spec.name === 'day-of-week' ? 6 : spec.max;
    } else {
      const dash = rangeText.indexOf('-');
      if (dash < 0) {
        from = value(rangeText, spec, text);
        // `a/n` runs from a to the end of the field, as most crons read it.
        to = slash >= 0 ? (spec.name === 'day-of-week' ? 6 : spec.max) : from;
      } else {
        from = value(rangeText.slice(0, dash), spec, text);
        to = value(rangeText.slice(dash + 1), spec, text);
        if (to < from) throw new CronSyntaxError(`the ${spec.name} field "${text}" has the range ${rangeText} running backwards; write the smaller value first`);
      }
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function value(token: string, spec: FieldSpec, field: string): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < spec.min || n > spec.max) throw new CronSyntaxError(`the ${spec.name} field "${field}" has ${n}, outside ${spec.min}-${spec.max}`);
    return n;
  }
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index < 0) {
    const names = spec.names === undefined ? '' : ` or a name (${spec.names.join(' ')})`;
    throw new CronSyntaxError(`the ${spec.name} field "${field}" has "${token}"; expected a number ${spec.min}-${spec.max}${names}`);
  }
  return spec.min + index;
}

/** Whether a calendar day matches the day fields (month checked separately). */
export function matchesDay(expression: CronExpression, dayOfMonth: number, dayOfWeek: number): boolean {
  const dom = expression.daysOfMonth.has(dayOfMonth);
  const dow = expression.daysOfWeek.has(dayOfWeek);
  if (expression.dayOfMonthRestricted && expression.dayOfWeekRestricted) return dom || dow;
  return dom && dow;
}

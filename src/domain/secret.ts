import { inspect } from 'node:util';

/**
 * A secret value that cannot be printed by accident: string conversion, JSON and util.inspect
 * all show `**redacted**`. Read it only where it is used, with `reveal()`.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '**redacted**';
  }
  toJSON(): string {
    return '**redacted**';
  }
  [inspect.custom](): string {
    return 'Secret(**redacted**)';
  }
}

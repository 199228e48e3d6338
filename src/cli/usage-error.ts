/** A usage problem the CLI reports with the usage text (exit 2). */
export class UsageError extends Error {}

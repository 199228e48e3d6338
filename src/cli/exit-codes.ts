/** Exit codes every holdfast command uses, so scripts can tell failures apart. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** The server understood the request and refused it (a 4xx answer). */
export const EXIT_REFUSED = 3;
/** A check ran to completion and found problems (audit verify; later the scanners). */
export const EXIT_PROBLEMS_FOUND = 4;

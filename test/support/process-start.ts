/**
 * How long a test waits for a child process (the bot, a worker, tsx compiling an entry point) to come up. Starting
 * one takes 2–5 s on a quiet machine and over a minute on a loaded one (CI runs beside other work): it is a bound on
 * waiting for a condition, not a timing assertion, so it is generous.
 */
export const PROCESS_START_MS = 180_000;

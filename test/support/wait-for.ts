/** Checks the database (or anything) every 25 ms until `check` returns a truthy value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false | 0>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

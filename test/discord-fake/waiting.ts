/**
 * Event-driven waiting: the fake calls notify() after every change (a REST
 * call answered, a dispatch sent, a gateway event), and each waiter re-checks
 * its condition then. No polling, no sleeps.
 */
export class ChangeSignal {
  readonly #listeners = new Set<() => void>();

  notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /**
   * Resolves with the first truthy value of `check()`, checked now and after
   * every change; rejects after `timeoutMs` with `describeFailure()`.
   */
  until<T>(check: () => T | null | undefined | false, timeoutMs: number, describeFailure: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        let value: T | null | undefined | false;
        try {
          value = check();
        } catch (error) {
          finish();
          reject(error);
          return true;
        }
        if (!value) return false;
        finish();
        resolve(value);
        return true;
      };
      const listener = () => void attempt();
      const timer = setTimeout(() => {
        finish();
        reject(new Error(describeFailure()));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
      attempt();
    });
  }
}

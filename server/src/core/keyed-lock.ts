/**
 * Serialises work per key (a volume, a pool, a group): operations on one object never
 * interleave, while operations on different objects run concurrently. Work that touches several
 * objects takes all their keys, in sorted order so two such jobs cannot deadlock.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves with a release function once every key is held. */
  async acquire(keys: string[]): Promise<() => void> {
    const releases: Array<() => void> = [];
    for (const key of [...new Set(keys)].sort()) {
      releases.push(await this.acquireOne(key));
    }
    return () => {
      for (const release of releases.reverse()) release();
    };
  }

  private async acquireOne(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  /** Resolves when nothing holds or waits for any key (graceful shutdown). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) {
      await Promise.allSettled([...this.tails.values()]);
    }
  }
}

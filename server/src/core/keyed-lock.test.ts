import { describe, expect, it } from "vitest";
import { KeyedLock } from "./keyed-lock";

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("KeyedLock", () => {
  it("runs work on one key one at a time, in arrival order", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = async (name: string, ms: number): Promise<void> => {
      const release = await lock.acquire(["v1"]);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      release();
    };
    await Promise.all([job("a", 30), job("b", 1), job("c", 10)]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("lets different keys run together and multi-key jobs wait for all of them", async () => {
    const lock = new KeyedLock();
    const releaseA = await lock.acquire(["a"]);
    const releaseB = await lock.acquire(["b"]);
    let both = false;
    const waiting = lock.acquire(["b", "a"]).then((release) => {
      both = true;
      release();
    });
    releaseA();
    await tick(5);
    expect(both).toBe(false);
    releaseB();
    await waiting;
    expect(both).toBe(true);
    await lock.idle();
  });
});

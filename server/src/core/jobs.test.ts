/**
 * The job runner on the real SQLite store: admission under the locks before any event exists,
 * work in the background with progress, undo when work fails (even when undo fails too), the
 * reuse of an identical earlier request's event, the cap on queued jobs, and the locks that keep
 * two jobs on one object apart.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Gate } from "../../../test/support/in-memory-engines";
import { openTemporaryStore, type TemporaryStore } from "../../../test/support/temporary-store";
import { DomainError } from "./domain-error";
import { JobRunner, ReuseEvent, type JobSpec } from "./jobs";
import { EngineError } from "./ports";

let temporary: TemporaryStore;
let store: TemporaryStore["store"];
let logged: string[];
let jobs: JobRunner;

beforeEach(() => {
  temporary = openTemporaryStore();
  store = temporary.store;
  logged = [];
  jobs = new JobRunner(store, (message) => logged.push(message));
});
afterEach(() => {
  temporary.dispose();
});

/** A job on object `id` whose hooks the test overrides; by default it admits and works. */
function job(id: string, hooks: Partial<JobSpec<string>> = {}): JobSpec<string> {
  return {
    lockKeys: [`volume:${id}`], objectType: "volume", objectId: id, operation: "create",
    admit: () => "admitted", work: () => undefined, undo: () => undefined, ...hooks,
  };
}

describe("JobRunner", () => {
  it("records a Processing event at admission and Complete when work ends, with progress on the way", async () => {
    const gate = new Gate();
    const started = await jobs.start(job("a", {
      work: async (_admitted, progress) => {
        progress(0.5);
        await gate.pass();
      },
    }));
    expect(started.reused).toBe(false);
    await gate.reached;
    expect(store.getEvent(started.event.id)).toMatchObject({ status: "Processing", percent: 50 });
    expect(jobs.isRunning(started.event.id)).toBe(true);
    gate.open();
    expect(await started.done).toMatchObject({ status: "Complete", percent: 100, errorCode: null });
    expect(store.getEvent(started.event.id)).toMatchObject({ status: "Complete" });
    expect(jobs.isRunning(started.event.id)).toBe(false);
  });

  it("runs undo with what admit returned when work fails, and records the failure by its engine code", async () => {
    const undone: string[] = [];
    const started = await jobs.start(job("a", {
      work: () => { throw new EngineError("NO_SPACE", "fallocate: no space left"); },
      undo: (admitted) => { undone.push(admitted); },
    }));
    expect(await started.done).toMatchObject({ status: "Error", errorCode: "INSUFFICIENT_CAPACITY", errorMessage: "the pool ran out of space: fallocate: no space left" });
    expect(undone).toEqual(["admitted"]);
    expect(logged.some((line) => line.includes("create volume a failed"))).toBe(true);
  });

  it("still records the work's failure when undo fails too, and logs both", async () => {
    const started = await jobs.start(job("a", {
      work: () => { throw new DomainError("ENGINE_FAILURE", "btrfs said no"); },
      undo: () => { throw new Error("could not remove"); },
    }));
    expect(await started.done).toMatchObject({ status: "Error", errorCode: "ENGINE_FAILURE", errorMessage: "btrfs said no" });
    expect(logged.some((line) => line.includes("undo of create a failed: could not remove"))).toBe(true);
  });

  it("makes no event when admit refuses, and releases the locks", async () => {
    await expect(jobs.start(job("a", { admit: () => { throw new DomainError("BUSY", "volume a is deleting"); } }))).rejects.toMatchObject({ code: "BUSY" });
    expect(store.findLatestEvent("a", "create")).toBeUndefined();
    expect(await (await jobs.start(job("a"))).done).toMatchObject({ status: "Complete" });
  });

  it("answers a retried request with the earlier event and does no work", async () => {
    const first = await jobs.start(job("a"));
    await first.done;
    let worked = false;
    const retry = await jobs.start(job("a", {
      admit: () => new ReuseEvent(jobs.lastEvent("volume", "a", "create")),
      work: () => { worked = true; },
    }));
    expect(retry).toMatchObject({ reused: true, event: { id: first.event.id } });
    expect((await retry.done).id).toBe(first.event.id);
    expect(worked).toBe(false);
  });

  it("gives an object made before events were kept a Complete event to answer with", () => {
    const event = jobs.lastEvent("volume", "old", "create");
    expect(event).toMatchObject({ objectId: "old", status: "Complete", percent: 100 });
    expect(jobs.lastEvent("volume", "old", "create").id).toBe(event.id);
  });

  it("runs two jobs on one object one after the other, and jobs on other objects beside them", async () => {
    const order: string[] = [];
    const gate = new Gate();
    const first = await jobs.start(job("a", { work: async () => { order.push("first starts"); await gate.pass(); order.push("first ends"); } }));
    const second = jobs.start(job("a", { work: () => { order.push("second"); } }));
    await gate.reached;
    const other = await jobs.start(job("b", { lockKeys: ["volume:b"], work: () => { order.push("other"); } }));
    await other.done;
    expect(order).toEqual(["first starts", "other"]);
    gate.open();
    await first.done;
    await (await second).done;
    expect(order).toEqual(["first starts", "other", "first ends", "second"]);
  });

  it("refuses a job beyond the cap with OVERLOADED, and takes it once one finished", async () => {
    jobs = new JobRunner(store, (message) => logged.push(message), 2);
    const gates = [new Gate(), new Gate()];
    const held = await Promise.all(gates.map((gate, i) => jobs.start(job(`held${i}`, { work: () => gate.pass() }))));
    await expect(jobs.start(job("third"))).rejects.toMatchObject({ code: "OVERLOADED" });
    gates[0]?.open();
    await held[0]?.done;
    expect(await (await jobs.start(job("third"))).done).toMatchObject({ status: "Complete" });
    gates[1]?.open();
    await held[1]?.done;
  });

  it("stops holding waiters at shutdown while the job itself runs on", async () => {
    const gate = new Gate();
    const started = await jobs.start(job("a", { work: () => gate.pass() }));
    const waiting = jobs.waitFor(started.event.id, 60_000);
    jobs.endWaits();
    expect(await waiting).toMatchObject({ status: "Processing" });
    gate.open();
    expect(await started.done).toMatchObject({ status: "Complete" });
  });
});

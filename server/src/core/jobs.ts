/**
 * Every mutating operation runs as a job: it takes the locks of the objects it touches, is
 * admitted (state checks and intent records, which can still refuse the request), gets an event,
 * then does its engine work in the background and records the outcome on the event. A failed job
 * runs its undo, so no half-made object is left behind.
 */
import { randomUUID } from "node:crypto";
import type { MetadataStore } from "./metadata-store";
import type { EventObjectType, EventRecord } from "./records";
import { KeyedLock } from "./keyed-lock";
import { asDomainError, DomainError } from "./domain-error";

export interface JobSpec<T> {
  lockKeys: string[];
  objectType: EventObjectType;
  objectId: string;
  operation: string;
  /**
   * Runs under the locks before any event exists. Throws a DomainError to refuse the request, or
   * returns `{ reuse }` when an identical earlier request already did (or is doing) the work.
   */
  admit(): T | ReuseEvent | Promise<T | ReuseEvent>;
  /** `progress(fraction)` moves the event's percentComplete (long jobs: scrub, dedupe). */
  work(admitted: T, progress: (fraction: number) => void): void | Promise<void>;
  /** Puts engines and records back as they were before admit; runs when work throws. */
  undo(admitted: T): void | Promise<void>;
}

export interface StartedJob {
  event: EventRecord;
  /** True when an identical earlier request already did (or is doing) the work. */
  reused: boolean;
  /** Settles (never rejects) with the finished event. */
  done: Promise<EventRecord>;
}

export function newHexId(): string {
  return randomUUID().replace(/-/g, "");
}

/** Admission's answer for a retried request: the event of the identical earlier one. */
export class ReuseEvent {
  constructor(readonly reuse: EventRecord) {}
}

/** Jobs running or waiting for their locks at once, unless the server is told otherwise. */
export const DEFAULT_MAX_JOBS = 64;

export class JobRunner {
  readonly lock = new KeyedLock();
  private readonly running = new Map<string, Promise<EventRecord>>();
  /** Jobs waiting for their locks or being admitted: they count against the cap too. */
  private starting = 0;
  /** Told of every finished job (metrics count them). */
  private readonly finishedListeners: ((event: EventRecord) => void)[] = [];
  private releaseWaiters!: () => void;
  /** Resolves when the server shuts down: long-polls answer at once instead of holding it up. */
  private readonly shutdown = new Promise<void>((r) => {
    this.releaseWaiters = r;
  });

  constructor(
    private readonly store: MetadataStore,
    private readonly log: (message: string) => void,
    private readonly maxJobs = DEFAULT_MAX_JOBS,
  ) {}

  onFinished(listener: (event: EventRecord) => void): void {
    this.finishedListeners.push(listener);
  }

  async start<T>(spec: JobSpec<T>): Promise<StartedJob> {
    // A flood of requests would otherwise queue without bound behind the locks (and their engine
    // work would spawn without bound): beyond the cap the request is refused, to be retried.
    if (this.running.size + this.starting >= this.maxJobs) {
      throw new DomainError("OVERLOADED", `the server already runs or queues ${this.maxJobs} jobs; retry shortly`);
    }
    this.starting++;
    let release: () => void;
    let admitted: T;
    try {
      release = await this.lock.acquire(spec.lockKeys);
      try {
        const outcome = await spec.admit();
        if (outcome instanceof ReuseEvent) {
          release();
          return { event: outcome.reuse, reused: true, done: this.settled(outcome.reuse.id) };
        }
        admitted = outcome;
      } catch (e) {
        release();
        throw e;
      }
    } finally {
      // From here on the job counts as running (or it was refused).
      this.starting--;
    }
    const event: EventRecord = {
      id: newHexId(),
      objectType: spec.objectType,
      objectId: spec.objectId,
      operation: spec.operation,
      status: "Processing",
      percent: 0,
      errorCode: null,
      errorMessage: null,
      started: Date.now(),
      finished: null,
    };
    this.store.insertEvent(event);
    const done = this.finish(spec, admitted, event).then((finished) => {
      for (const listener of this.finishedListeners) listener(finished);
      return finished;
    }).finally(() => {
      release();
      this.running.delete(event.id);
    });
    this.running.set(event.id, done);
    return { event, reused: false, done };
  }

  private async finish<T>(spec: JobSpec<T>, admitted: T, event: EventRecord): Promise<EventRecord> {
    try {
      await spec.work(admitted, (fraction) => {
        this.store.setEventPercent(event.id, fraction * 100);
      });
      const result = { status: "Complete" as const, percent: 100, errorCode: null, errorMessage: null, finished: Date.now() };
      this.store.finishEvent(event.id, result);
      return { ...event, ...result };
    } catch (e) {
      const failure = asDomainError(e);
      this.log(`${spec.operation} ${spec.objectType} ${spec.objectId} failed: ${failure.message}`);
      try {
        await spec.undo(admitted);
      } catch (undoError) {
        this.log(`undo of ${spec.operation} ${spec.objectId} failed: ${asDomainError(undoError).message}`);
      }
      const result = { status: "Error" as const, percent: 100, errorCode: failure.code, errorMessage: failure.message, finished: Date.now() };
      this.store.finishEvent(event.id, result);
      return { ...event, ...result };
    }
  }

  /** A recorded event, finished or not. */
  event(eventId: string): EventRecord | undefined {
    return this.store.getEvent(eventId);
  }

  /**
   * The event an idempotent retry answers with: the newest one of that operation on the object,
   * or (for objects made before events were kept) a Complete one recorded now.
   */
  lastEvent(objectType: EventObjectType, objectId: string, operation: string): EventRecord {
    const found = this.store.findLatestEvent(objectId, operation);
    if (found !== undefined) return found;
    const now = Date.now();
    const event: EventRecord = {
      id: newHexId(), objectType, objectId, operation, status: "Complete", percent: 100,
      errorCode: null, errorMessage: null, started: now, finished: now,
    };
    this.store.insertEvent(event);
    return event;
  }

  isRunning(eventId: string): boolean {
    return this.running.has(eventId);
  }

  /** Stops holding `Prefer: wait` requests (server shutdown); jobs themselves run to the end. */
  endWaits(): void {
    this.releaseWaiters();
  }

  /** The event once finished (immediately when it already is, or unknown). */
  settled(eventId: string): Promise<EventRecord> {
    const running = this.running.get(eventId);
    if (running !== undefined) return running;
    const stored = this.store.getEvent(eventId);
    if (stored === undefined) return Promise.reject(new Error(`event ${eventId} is unknown`));
    return Promise.resolve(stored);
  }

  /** Waits up to `ms` for a running event; returns the event as it stands then. */
  async waitFor(eventId: string, ms: number): Promise<EventRecord | undefined> {
    const running = this.running.get(eventId);
    if (running !== undefined && ms > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, this.shutdown, new Promise<void>((r) => { timer = setTimeout(r, ms); })]);
      clearTimeout(timer);
    }
    return this.store.getEvent(eventId);
  }
}

import { describe, expect, it } from "vitest";
import { asDomainError, DomainError } from "./domain-error";
import { EngineError } from "./ports";

describe("asDomainError", () => {
  it("maps an engine's error by its code, not by its message", () => {
    expect(asDomainError(new EngineError("NOT_FOUND", "volume v not found in pool p"))).toMatchObject({ code: "NOT_FOUND", message: "volume v not found in pool p" });
    expect(asDomainError(new EngineError("INVALID_REQUEST", "raid10 needs at least 2 devices, got 1")).code).toBe("INVALID_ARGUMENT");
    expect(asDomainError(new EngineError("FAILED", "mkfs.btrfs said no")).code).toBe("ENGINE_FAILURE");
    // The words alone decide nothing: an engine failure that quotes ENOSPC stays a failure.
    expect(asDomainError(new EngineError("FAILED", "log line mentions ENOSPC")).code).toBe("ENGINE_FAILURE");
  });

  it("makes a full filesystem the pool running out of space, from an engine's code or a file system call's errno", () => {
    expect(asDomainError(new EngineError("NO_SPACE", "fallocate failed"))).toMatchObject({ code: "INSUFFICIENT_CAPACITY", message: "the pool ran out of space: fallocate failed" });
    const errno = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    expect(asDomainError(errno).code).toBe("INSUFFICIENT_CAPACITY");
    expect(asDomainError(new Error("something else")).code).toBe("ENGINE_FAILURE");
  });

  it("keeps a DomainError as it is", () => {
    const refusal = new DomainError("BUSY", "volume v is exported", "metadata.force");
    expect(asDomainError(refusal)).toBe(refusal);
  });
});

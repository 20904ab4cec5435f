import { describe, expect, it } from "vitest";
import { usableBytes } from "./pool-service";

const GiB = 2 ** 30;

describe("usable bytes of a profile", () => {
  it("counts a mirror's copies on other devices: a big device beside a small one adds little", () => {
    expect(usableBytes("raid1", [GiB, GiB])).toBeCloseTo(GiB, -3);
    expect(usableBytes("raid1", [2 * GiB, 0.5 * GiB])).toBeCloseTo(0.5 * GiB, -3);
    expect(usableBytes("raid1", [GiB, GiB, GiB])).toBeCloseTo(1.5 * GiB, -3);
    expect(usableBytes("raid1c3", [GiB, GiB, GiB])).toBeCloseTo(GiB, -3);
    expect(usableBytes("raid1c3", [GiB, GiB])).toBeCloseTo(0, -3);
  });

  it("gives striping everything and parity one or two devices' worth", () => {
    expect(usableBytes("single", [GiB, 2 * GiB])).toBe(3 * GiB);
    expect(usableBytes("raid0", [GiB, GiB])).toBe(2 * GiB);
    expect(usableBytes("raid5", [GiB, GiB, GiB])).toBe(2 * GiB);
    expect(usableBytes("raid6", [GiB, GiB, GiB, GiB])).toBe(2 * GiB);
  });
});

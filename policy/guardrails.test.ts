import { describe, expect, it } from "vitest";
import {
  dplKindOf, ExportAccessConfig, exportAccessViolations, PoolRedundancyConfig, poolRedundancyViolation, VolumeSizeConfig, volumeSizeViolation,
} from "./guardrails";

describe("dplKindOf", () => {
  it("reads the kind from the dynamic SDK's and the native provider's type tokens", () => {
    expect(dplKindOf("pulumi-nodejs:dynamic/dpl:Pool")).toBe("pool");
    expect(dplKindOf("dpl:index:ISCSIExport")).toBe("iscsiExport");
    expect(dplKindOf("dpl:index:Snapshot")).toBe("other");
  });

  it("leaves other providers' resources alone", () => {
    expect(dplKindOf("aws:s3/bucket:Bucket")).toBeUndefined();
    expect(dplKindOf("pulumi-nodejs:dynamic:Resource")).toBeUndefined();
  });
});

describe("the production pool redundancy rule", () => {
  const defaults = PoolRedundancyConfig.parse({});

  it("refuses raid0 and single on a pool tagged as production", () => {
    expect(poolRedundancyViolation({ raidLevel: "raid0", tags: { environment: "production" } }, defaults)).toMatch(/raidLevel is raid0/);
    expect(poolRedundancyViolation({ raidLevel: "single", tags: { environment: "prod" } }, defaults)).toMatch(/raidLevel is single/);
  });

  it("treats an absent raidLevel as the server's default, single", () => {
    expect(poolRedundancyViolation({ tags: { environment: "production" } }, defaults)).toMatch(/raidLevel is single/);
  });

  it("accepts mirrored production pools and any untagged or non-production pool", () => {
    expect(poolRedundancyViolation({ raidLevel: "raid1", tags: { environment: "production" } }, defaults)).toBeUndefined();
    expect(poolRedundancyViolation({ raidLevel: "raid0", tags: { environment: "staging" } }, defaults)).toBeUndefined();
    expect(poolRedundancyViolation({ raidLevel: "raid0" }, defaults)).toBeUndefined();
  });

  it("follows its config: another tag key, other values, other forbidden levels", () => {
    const config = PoolRedundancyConfig.parse({ productionTagKey: "tier", productionTagValues: ["gold"], forbiddenRaidLevels: ["raid0", "raid5"] });
    expect(poolRedundancyViolation({ raidLevel: "raid5", tags: { tier: "gold" } }, config)).toMatch(/tier=gold/);
    expect(poolRedundancyViolation({ raidLevel: "single", tags: { tier: "gold" } }, config)).toBeUndefined();
    expect(poolRedundancyViolation({ raidLevel: "raid0", tags: { environment: "production" } }, config)).toBeUndefined();
  });

  it("rejects a config naming a RAID level DPL does not have", () => {
    expect(() => PoolRedundancyConfig.parse({ forbiddenRaidLevels: ["raid7"] })).toThrow();
  });
});

describe("the export access control rule", () => {
  const defaults = ExportAccessConfig.parse({});

  it("asks for named initiators and CHAP", () => {
    const problems = exportAccessViolations({}, defaults);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^initiators/);
    expect(problems[1]).toMatch(/^chap/);
    expect(exportAccessViolations({ initiators: [], chap: { username: "u" } }, defaults)).toEqual([expect.stringMatching(/^initiators/)]);
  });

  it("accepts an export with initiators and CHAP, and asks for mutual CHAP only when configured", () => {
    const target = { initiators: ["iqn.2026-01.com.example:h1"], chap: { username: "u", secret: "0123456789ab" } };
    expect(exportAccessViolations(target, defaults)).toEqual([]);
    expect(exportAccessViolations(target, ExportAccessConfig.parse({ requireMutualChap: true }))).toEqual([expect.stringMatching(/^mutualChap/)]);
    expect(exportAccessViolations({ ...target, mutualChap: { username: "t" } }, ExportAccessConfig.parse({ requireMutualChap: true }))).toEqual([]);
  });
});

describe("the volume size cap", () => {
  const defaults = VolumeSizeConfig.parse({});

  it("refuses a volume over 1024 GiB by default, in GiB or in bytes", () => {
    expect(volumeSizeViolation({ sizeGib: 2048 }, defaults)).toMatch(/2048 GiB, over the cap of 1024 GiB/);
    expect(volumeSizeViolation({ sizeBytes: 1025 * 2 ** 30 }, defaults)).toMatch(/1025 GiB/);
    expect(volumeSizeViolation({ sizeGib: 1024 }, defaults)).toBeUndefined();
  });

  it("passes a resource whose size is not set (a clone keeps its source's)", () => {
    expect(volumeSizeViolation({}, defaults)).toBeUndefined();
  });

  it("follows its configured cap and refuses a non-positive one", () => {
    expect(volumeSizeViolation({ sizeGib: 20 }, VolumeSizeConfig.parse({ maxSizeGib: 16 }))).toMatch(/cap of 16 GiB/);
    expect(() => VolumeSizeConfig.parse({ maxSizeGib: 0 })).toThrow();
  });
});

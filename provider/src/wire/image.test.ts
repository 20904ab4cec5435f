import { describe, expect, it } from "vitest";
import { classifyVolumePut, ImageSource, VolumeFromImageBody } from "./index";

const pool = "ac33fc6e417440d5a1ef27d7231e1cc4";

function fieldOf(value: unknown): string | undefined {
  const parsed = ImageSource.safeParse(value);
  return parsed.success ? undefined : parsed.error.issues.map((issue) => issue.path.join(".")).join(",");
}

describe("image import bodies", () => {
  it("a body with a top-level image is an import (not a create, though it names pool_uuid)", () => {
    const body = { metadata: { pool_uuid: pool }, image: { url: "https://images.example.org/base.qcow2", format: "qcow2" } };
    const put = classifyVolumePut(body);
    expect(put?.op).toBe("import");
    expect(VolumeFromImageBody.safeParse(body).success).toBe(true);
  });

  it("accepts an absolute path or an http(s) URL, with a known format", () => {
    expect(fieldOf({ path: "/srv/images/base.raw", format: "raw" })).toBeUndefined();
    expect(fieldOf({ url: "http://10.0.0.1:8080/base.qcow2?x=1", format: "qcow2" })).toBeUndefined();
  });

  it.each([
    [{ url: "file:///etc/shadow", format: "raw" }, "url"],
    [{ url: "https://user:secret@images.example.org/a.raw", format: "raw" }, "url"],
    [{ url: "not a url", format: "raw" }, "url"],
    [{ path: "images/base.raw", format: "raw" }, "path"],
    [{ path: "/srv/images/../../etc/shadow", format: "raw" }, "path"],
    [{ path: "/srv//images/a.raw", format: "raw" }, "path"],
    [{ path: "/a.raw", url: "http://x/a.raw", format: "raw" }, "path"],
    [{ format: "raw" }, "path"],
    [{ path: "/a.vmdk", format: "vmdk" }, "format"],
  ])("refuses %j naming %s", (source, field) => {
    expect(fieldOf(source)).toBe(field);
  });
});

/**
 * server/openapi.json is generated from the wire schemas; this fails when the committed file is
 * stale. Regenerate with: UPDATE_OPENAPI=1 npx vitest run --project integration server-openapi
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../server/src/api/openapi";

const committed = join(__dirname, "..", "..", "server", "openapi.json");

describe("OpenAPI document", () => {
  it("server/openapi.json matches the document generated from the wire schemas", () => {
    const generated = `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI === "1") writeFileSync(committed, generated);
    expect(readFileSync(committed, "utf8"), "stale: regenerate with UPDATE_OPENAPI=1").toBe(generated);
  });

  it("documents every collection and the error body", () => {
    const doc = buildOpenApiDocument() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/v1/dpl_system/", "/v1/dpl_pool/{pool}/", "/v1/dpl_volume/{volume}/", "/v1/dpl_volgroup/{group}/", "/v1/dpl_export/{target}/"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});

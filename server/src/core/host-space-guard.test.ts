/**
 * The host filesystem's free space on in-memory engines (no root): image-file pools must fit in
 * full beside the others' promises, thick volumes must fit beside the other pools' promises, and
 * the floor is never counted on. Refusals are 422 naming the size field and leave nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { poolCreateMetadata, volumeCreateMetadata } from "../../../provider/src/client/specs";
import { GiB, MiB, startInMemoryServer, type InMemoryServer } from "../../../test/support/in-memory-server";

const hexId = (n: number): string => n.toString(16).padStart(32, "0");
const FLOOR = 256 * MiB;

let server: InMemoryServer;

beforeEach(async () => {
  server = await startInMemoryServer({ hostFreeFloorBytes: FLOOR });
  server.disks.hostAvailableBytes = 4 * GiB;
});
afterEach(async () => {
  await server.close();
});

function createPool(poolId: string, sizes: number[]): ReturnType<InMemoryServer["put"]> {
  return server.put(`/v1/dpl_pool/${poolId}/`, {
    metadata: poolCreateMetadata({ name: `pool-${poolId.slice(-4)}`, devices: sizes.map((size) => ({ type: "image_file" as const, size })) }),
  });
}

describe("the host's free space", () => {
  it("refuses a pool whose image files it could not hold full, counting what other pools may still take", async () => {
    const first = hexId(1);
    expect((await createPool(first, [2 * GiB])).statusCode).toBe(201);
    // 4 GiB free, 2 GiB promised to the first pool, 256 MiB floor: 1.75 GiB is the most.
    const refused = await createPool(hexId(2), [2 * GiB]);
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ error: { code: "INSUFFICIENT_CAPACITY", field: "metadata.devices.0.size" } });
    expect((await server.request({ method: "GET", url: `/v1/dpl_pool/${hexId(2)}/` })).statusCode).toBe(404);
    const split = await createPool(hexId(3), [GiB, GiB]);
    expect(split.json()).toMatchObject({ error: { code: "INSUFFICIENT_CAPACITY", field: "metadata.devices" } });
    expect((await createPool(hexId(4), [1536 * MiB])).statusCode).toBe(201);
  });

  it("refuses a thick volume whose blocks would not fit beside the other pools' promises; a thin one is made", async () => {
    const [pool, other] = [hexId(5), hexId(6)];
    expect((await createPool(pool, [GiB])).statusCode).toBe(201);
    expect((await createPool(other, [GiB])).statusCode).toBe(201);
    // Something else on the host takes space: 1.5 GiB free, 1 GiB promised to the other pool, 256 MiB floor.
    server.disks.hostAvailableBytes = 1536 * MiB;
    const volume = (id: string, thin: boolean, sizeBytes: number): ReturnType<InMemoryServer["put"]> =>
      server.put(`/v1/dpl_volume/${id}/`, { metadata: volumeCreateMetadata({ poolId: pool, sizeBytes, thin }) });
    const thick = await volume(hexId(7), false, 512 * MiB);
    expect(thick.statusCode).toBe(422);
    expect(thick.json()).toMatchObject({ error: { code: "INSUFFICIENT_CAPACITY", field: "metadata.total_capacity" } });
    expect(server.disks.files.size).toBe(0);
    expect((await volume(hexId(8), true, 512 * MiB)).statusCode).toBe(201);
    expect((await volume(hexId(9), false, 128 * MiB)).statusCode).toBe(201);
  });
});

import { z } from "zod";
import { withClientAt } from "../config/open-client";
import { HexId, ReplicationPeer } from "../wire";
import type { CreateResult, PropertyBag, ReadResult } from "./hook-types";
import { parseInputs, pick } from "./input-validation";
import { ObjectIdInput, OperationTimeoutInput, named } from "./lifecycle-inputs";
import { defineResource, replacing } from "./resource-definition";

const DplServer = named(
  z.object({
    url: ReplicationPeer.shape.url.describe("The server's URL."),
    username: ReplicationPeer.shape.username,
    password: ReplicationPeer.shape.password,
    caCertificate: ReplicationPeer.shape.ca_certificate.describe("PEM of the server's certificate (or its CA); absent: the system's CAs."),
  }),
  "DplServerArgs",
  "A DPL server other than the provider's own: its URL, a user and password, and the certificate to trust.",
);

/**
 * An action, like Rollback: creating it promotes a replication's replica on the server that
 * holds it (and, when asked, turns the relationship round toward the old source, which then
 * catches up incrementally: the way back). Changing the replication or a trigger makes a new
 * failover (new credentials for the servers do not); deleting it does nothing on the servers,
 * so a failover kept in the state never fires again by accident.
 */
export const FailoverInputs = z.object({
  objectId: ObjectIdInput,
  replication: HexId.describe("The replication whose replica becomes writable (a Replication's id)."),
  replicaServer: DplServer.describe("The server that holds the replica, where the promote runs (the Replication's target). Kept secret in the state."),
  reverseTo: DplServer.optional().describe(
    "After the promote, make the promoted side the source toward this server (the old source, as the replica's server reaches it): the old "
    + "source's volumes become replicas and catch up incrementally from the snapshot both hold. Its volumes must not be exported. Kept secret in the state.",
  ),
  triggers: z.array(z.unknown()).optional().describe("Any values; when one changes, the failover runs again (like pulumi-command's `triggers`)."),
  operationTimeoutSeconds: OperationTimeoutInput,
});
export type FailoverInputs = z.output<typeof FailoverInputs>;

const FailoverOutputs = z.object({
  promotedAt: z.string().describe("When the replica was promoted (ISO 8601)."),
  promotedVolumeIds: z.array(z.string()).describe("The volumes that became writable on the replica's server."),
  reversed: z.boolean().describe("Whether the relationship now runs from the promoted side toward `reverseTo`."),
});

const INPUT_KEYS = Object.keys(FailoverInputs.shape);

async function createFailover(bag: PropertyBag): Promise<CreateResult> {
  const inputs = parseInputs(FailoverInputs, bag, "Failover");
  return withClientAt(inputs.replicaServer, inputs.operationTimeoutSeconds, async (client) => {
    let reply = await client.promoteReplication(inputs.replication);
    const reverseTo = inputs.reverseTo;
    if (reverseTo !== undefined) {
      const peer = { url: reverseTo.url, username: reverseTo.username, password: reverseTo.password, ...(reverseTo.caCertificate === undefined ? {} : { ca_certificate: reverseTo.caCertificate }) };
      reply = await client.reverseReplication(inputs.replication, peer);
    }
    const outs: z.output<typeof FailoverOutputs> = {
      promotedAt: new Date().toISOString(), promotedVolumeIds: reply.metadata.volumes.map((v) => v.volume), reversed: reverseTo !== undefined,
    };
    return { id: inputs.objectId, outs: { ...pick(bag, INPUT_KEYS), ...outs } };
  });
}

/** The failover happened; there is nothing on the server to read back. */
function readFailover(id: string, props: PropertyBag): ReadResult {
  return { id, props, inputs: pick(props, INPUT_KEYS) };
}

function deleteFailover(): Promise<void> {
  // Deliberately nothing: a promoted replica cannot be unpromoted, and another failover is a new resource.
  return Promise.resolve();
}

const failsOverAgain = "another failover is another action";

export const failoverDefinition = defineResource({
  kind: "failover",
  typeName: "Failover",
  description: "An action: creating it promotes a replication's replica (writable and exportable, syncs into it stop) on the server that holds it, "
    + "and with `reverseTo` turns the relationship round so that the old source catches up incrementally (failback: fail over once more the other way). "
    + "Changing the replication or a trigger fails over again (new server credentials do not); deleting it does nothing on the servers, so it never fires by accident.",
  inputs: FailoverInputs,
  outputs: FailoverOutputs,
  changes: {
    replication: replacing(failsOverAgain),
    triggers: replacing(failsOverAgain),
    // replicaServer and reverseTo ride along in the state: new credentials never fire the failover again.
  },
  stables: [],
  secrets: ["replicaServer", "reverseTo"],
  deleteBeforeReplace: true,
  create: createFailover,
  read: readFailover,
  delete: deleteFailover,
});

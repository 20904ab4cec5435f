/**
 * Diagnostics through the engine's Log service, attached to a resource: the CLI prints them under
 * that resource in `preview` and `up`, which is where a reviewer reads why something is replaced.
 */
import * as grpc from "@grpc/grpc-js";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";

export interface EngineLog {
  warn(urn: string, message: string): Promise<void>;
}

/** A log to the engine at `address` (the plugin's first argument); none: messages go to stderr. */
export function engineLog(address: string | undefined): EngineLog {
  if (address === undefined || address === "") {
    return { warn: (_urn, message) => { process.stderr.write(`${message}\n`); return Promise.resolve(); } };
  }
  const client = new EngineClient(address, grpc.credentials.createInsecure());
  return {
    warn: (urn, message) => new Promise((resolve) => {
      const request = new LogRequest().setSeverity(LogSeverity.WARNING).setMessage(message).setUrn(urn);
      // A lost diagnostic must not fail the diff it explains.
      client.log(request, () => { resolve(); });
    }),
  };
}

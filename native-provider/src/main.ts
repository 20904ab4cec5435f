#!/usr/bin/env node
/**
 * pulumi-resource-dpl: the engine starts the plugin with its own address as the argument and
 * reads the port the plugin listens on from its first line of stdout.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { ResourceProviderService } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { engineLog } from "./engine-log";
import { resourceProviderService } from "./resource-provider-service";

interface PackageManifest { version: string }

function pluginVersion(): string {
  const manifest = JSON.parse(readFileSync(require.resolve("../package.json"), "utf8")) as PackageManifest;
  return manifest.version;
}

/** The package schema, generated from the resource definitions (`npm run generate`). */
function packageSchema(): string {
  return readFileSync(require.resolve("@prophetstor/dpl-provider/schema.json"), "utf8");
}

async function serve(): Promise<void> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(ResourceProviderService, resourceProviderService(pluginVersion(), packageSchema(), engineLog(process.argv[2])));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => { if (err) reject(err); else resolve(bound); });
  });
  process.stdout.write(`${port}\n`);
}

serve().catch((err: unknown) => {
  process.stderr.write(`pulumi-resource-dpl: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * Pulumi's ResourceProvider gRPC service for the DPL resources: the second front door to the
 * hooks the dynamic provider serves (no resource logic lives here, only the protocol).
 *
 * Why not `provider.main` of @pulumi/pulumi/provider: in 3.248 its server answers Configure
 * without passing the request's variables to the provider (the hooks would never learn the
 * endpoint or the password) and its Diff sets only changes/replaces, so no detailed diff could
 * reach `preview --diff`. This service uses the same generated protos and grpc-js that server
 * does, and implements those two calls properly.
 */
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import type { IResourceProviderServer } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import { rememberProviderConfig, type InputChangeSeen, type PropertyBag } from "@prophetstor/dpl-provider";
import type { EngineLog } from "./engine-log";
import { configFailures, configSource } from "./provider-config";
import { plainBag, secretKeysOf, withSecrets } from "./property-values";
import { hooksOfType, secretOutputsOfType, typeOf, withDeclarationSeed } from "./type-tokens";

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/** Answers one unary call from an async function; a thrown error becomes the call's error, with its message. */
function unary<Req, Res>(handler: (request: Req) => Promise<Res> | Res): Unary<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(call.request))
      .then((response) => { callback(null, response); })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        callback({ code: grpc.status.UNKNOWN, details: message, name: "Error", message, metadata: new grpc.Metadata() });
      });
  };
}

function unimplemented(what: string): Unary<unknown, never> {
  return (_call, callback) => { callback({ code: grpc.status.UNIMPLEMENTED, details: `pulumi-resource-dpl does not implement ${what}`, name: "Error", message: what, metadata: new grpc.Metadata() }); };
}

/** A bag as a struct: JSON-clean first (undefined members are dropped, as JSON would). */
function struct(bag: PropertyBag | undefined): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(bag ?? {})) as Record<string, never>);
}

/** A request's properties, converted once: plain for the hooks, and which of them came in secret. */
interface Received {
  bag: PropertyBag;
  secretKeys: string[];
}

function received(value: Struct | undefined): Received {
  const wire = value?.toJavaScript();
  return { bag: plainBag(wire), secretKeys: secretKeysOf(wire) };
}

const bagOf = (value: Struct | undefined): PropertyBag => received(value).bag;

/** The properties to mark secret in what answers a request: the type's secrets and whatever came in secret. */
const secretsFor = (type: string, ...requests: Received[]): string[] =>
  [...new Set([...secretOutputsOfType(type), ...requests.flatMap((request) => request.secretKeys)])];

function checkResponse(inputs: PropertyBag, failures: readonly { property: string; reason: string }[]): proto.CheckResponse {
  const response = new proto.CheckResponse().setInputs(struct(inputs));
  response.setFailuresList(failures.map((failure) => new proto.CheckFailure().setProperty(failure.property).setReason(failure.reason)));
  return response;
}

const PROPERTY_DIFF_KIND: Record<InputChangeSeen["presence"], Record<InputChangeSeen["effect"], proto.PropertyDiff.Kind>> = {
  added: { update: proto.PropertyDiff.Kind.ADD, replace: proto.PropertyDiff.Kind.ADD_REPLACE },
  removed: { update: proto.PropertyDiff.Kind.DELETE, replace: proto.PropertyDiff.Kind.DELETE_REPLACE },
  changed: { update: proto.PropertyDiff.Kind.UPDATE, replace: proto.PropertyDiff.Kind.UPDATE_REPLACE },
};

/** Diff by property: each changed input as an update or a replace (what `preview --diff` prints). */
function diffResponse(changes: readonly InputChangeSeen[], replaces: readonly string[], deleteBeforeReplace: boolean): proto.DiffResponse {
  const response = new proto.DiffResponse()
    .setChanges(changes.length > 0 ? proto.DiffResponse.DiffChanges.DIFF_SOME : proto.DiffResponse.DiffChanges.DIFF_NONE)
    .setReplacesList([...replaces])
    .setDiffsList(changes.map((change) => change.key))
    .setDeletebeforereplace(deleteBeforeReplace && replaces.length > 0)
    .setHasdetaileddiff(true);
  const detailed = response.getDetaileddiffMap();
  for (const change of changes) detailed.set(change.key, new proto.PropertyDiff().setKind(PROPERTY_DIFF_KIND[change.presence][change.effect]).setInputdiff(true));
  return response;
}

/** The service, with the plugin's version and the package schema it answers GetSchema with. */
export function resourceProviderService(version: string, schema: string, log: EngineLog): IResourceProviderServer {
  return {
    handshake: unary(() => new proto.ProviderHandshakeResponse().setAcceptSecrets(true).setAcceptResources(false).setAcceptOutputs(false)),
    parameterize: unimplemented("Parameterize"),
    getPluginInfo: unary(() => new PluginInfo().setVersion(version)),
    getSchema: unary((request: proto.GetSchemaRequest) => {
      if (request.getVersion() !== 0) throw new Error(`unsupported schema version ${request.getVersion()}`);
      return new proto.GetSchemaResponse().setSchema(schema);
    }),
    checkConfig: unary((request: proto.CheckRequest) => {
      const news = bagOf(request.getNews());
      return checkResponse(news, configFailures(news));
    }),
    // A provider's settings only say where the server is: a change never replaces what it manages.
    diffConfig: unary((request: proto.DiffRequest) => {
      const olds = JSON.stringify(bagOf(request.getOldInputs() ?? request.getOlds()));
      const same = olds === JSON.stringify(bagOf(request.getNews()));
      return new proto.DiffResponse().setChanges(same ? proto.DiffResponse.DiffChanges.DIFF_NONE : proto.DiffResponse.DiffChanges.DIFF_SOME);
    }),
    configure: unary((request: proto.ConfigureRequest) => {
      rememberProviderConfig(configSource(bagOf(request.getArgs()), request.getVariablesMap()));
      return new proto.ConfigureResponse().setAcceptsecrets(true).setAcceptresources(false).setSupportspreview(false).setAcceptoutputs(false);
    }),
    invoke: unimplemented("Invoke (use the SDK's lookups)"),
    call: unimplemented("Call"),
    construct: unimplemented("Construct (no component resources)"),
    check: unary(async (request: proto.CheckRequest) => {
      const type = typeOf(request.getType(), request.getUrn());
      const incoming = received(request.getNews());
      const news = withDeclarationSeed(type, request.getUrn(), incoming.bag);
      const result = await hooksOfType(type).check(bagOf(request.getOlds()), news);
      return checkResponse(withSecrets(result.inputs ?? news, secretsFor(type, incoming)), result.failures ?? []);
    }),
    diff: unary(async (request: proto.DiffRequest) => {
      const result = await hooksOfType(typeOf(request.getType(), request.getUrn())).diff(request.getId(), bagOf(request.getOlds()), bagOf(request.getNews()));
      const replacing = (result.inputChanges ?? []).filter((change) => change.effect === "replace");
      if (replacing.length > 0) {
        await log.warn(request.getUrn(), `replaced because ${replacing.map((change) => `${change.key} changed: ${change.why}`).join("; ")}`);
      }
      return diffResponse(result.inputChanges ?? [], result.replaces ?? [], result.deleteBeforeReplace ?? false);
    }),
    create: unary(async (request: proto.CreateRequest) => {
      const type = typeOf(request.getType(), request.getUrn());
      const properties = received(request.getProperties());
      const result = await hooksOfType(type).create(properties.bag);
      return new proto.CreateResponse().setId(result.id).setProperties(struct(withSecrets(result.outs ?? {}, secretsFor(type, properties))));
    }),
    // Import and refresh alike: `pulumi import` sends only the id (no state, no inputs), refresh the state.
    read: unary(async (request: proto.ReadRequest) => {
      const type = typeOf(request.getType(), request.getUrn());
      const state = received(request.getProperties());
      const inputs = received(request.getInputs());
      const props = Object.keys(state.bag).length > 0 ? state.bag : inputs.bag;
      const result = await hooksOfType(type).read(request.getId(), props);
      const response = new proto.ReadResponse().setId(result.id ?? "");
      if (result.id === undefined || result.id === "") return response;
      const secrets = secretsFor(type, state, inputs);
      return response.setProperties(struct(withSecrets(result.props ?? {}, secrets))).setInputs(struct(withSecrets(result.inputs ?? {}, secrets)));
    }),
    update: unary(async (request: proto.UpdateRequest) => {
      const type = typeOf(request.getType(), request.getUrn());
      const olds = received(request.getOlds());
      const news = received(request.getNews());
      const result = await hooksOfType(type).update(request.getId(), olds.bag, news.bag);
      return new proto.UpdateResponse().setProperties(struct(withSecrets(result.outs ?? {}, secretsFor(type, news, olds))));
    }),
    delete: unary(async (request: proto.DeleteRequest) => {
      await hooksOfType(typeOf(request.getType(), request.getUrn())).delete(request.getId(), bagOf(request.getProperties()));
      return new Empty();
    }),
    list: (call) => { call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "pulumi-resource-dpl does not implement List" }); },
    cancel: unary(() => new Empty()),
    attach: unary(() => new Empty()),
    getMapping: unary(() => new proto.GetMappingResponse()),
    getMappings: unary(() => new proto.GetMappingsResponse()),
  };
}

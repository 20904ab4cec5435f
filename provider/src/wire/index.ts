/**
 * The DPL v1 wire contract: one zod schema per request and reply shape. The client in
 * ../client builds its requests and parses its replies with these; the bundled server parses its
 * requests and shapes its replies with the same ones, so the two cannot drift.
 */
export * from "./ids";
export * from "./envelope";
export * from "./system";
export * from "./pool";
export * from "./volume";
export * from "./snapshot";
export * from "./event";
export * from "./target";
export * from "./volgroup";
export * from "./replication";
export * from "./io-stats";
export * from "./image";
export * from "./routes";

// Generated from the resource definitions in provider/src/resources by `npm run generate`. Do not edit.
export * from "./block-volume";
export * from "./clone";
export * from "./failover";
export * from "./fc-export";
export * from "./group-snapshot";
export * from "./image-export";
export * from "./iscsi-export";
export * from "./pool";
export * from "./replication";
export * from "./rollback";
export * from "./snapshot";
export * from "./types";
export * from "./volume";
export * from "./volume-from-image";
export * from "./volume-group";

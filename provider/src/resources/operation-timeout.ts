import { z } from "zod";

/**
 * Per-resource deadline of each DPL call a hook makes (retries and event waits included): the
 * Node dynamic-provider host ignores Pulumi's customTimeouts, so this is what bounds an operation.
 */
export const OperationTimeoutSeconds = z.number().int("must be a whole number of seconds").positive("must be greater than 0").max(86_400, "must be at most 86400 (a day)");

export function timeoutOf(props: Record<string, unknown>): number | undefined {
  return typeof props.operationTimeoutSeconds === "number" ? props.operationTimeoutSeconds : undefined;
}

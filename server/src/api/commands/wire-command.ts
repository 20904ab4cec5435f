/**
 * A wire body translated into core's command, with the way back for refusals: core blames a
 * property of its command ("settings.sizeBytes"), the client must be told the field it sent
 * ("metadata.total_capacity").
 */
import { DomainError } from "../../core/domain-error";

/** Command property path (or a prefix of one) → the wire field it was read from. */
export type WireFields = Readonly<Record<string, string>>;

export interface WireCommand<C> {
  readonly command: C;
  readonly fields: WireFields;
}

/**
 * The wire field for a command property path: its longest mapped prefix, with the rest of the
 * path (array indexes, a nested key such as `.size`) kept. Undefined when no prefix is mapped.
 */
export function wireFieldOf(fields: WireFields, field: string): string | undefined {
  const parts = field.split(".");
  for (let length = parts.length; length > 0; length--) {
    const wire = fields[parts.slice(0, length).join(".")];
    if (wire !== undefined) return [wire, ...parts.slice(length)].join(".");
  }
  return undefined;
}

/** The same fields under a command property (`settings` → `settings.sizeBytes`, ...). */
export function nestedFields(prefix: string, fields: WireFields): WireFields {
  return Object.fromEntries(Object.entries(fields).map(([path, wire]) => [`${prefix}.${path}`, wire]));
}

/**
 * Runs core on the command; a refusal naming a command property is re-raised naming the wire
 * field instead. A property with no wire field is not named at all (a core path means nothing
 * to a client).
 */
export async function perform<C, T>(wire: WireCommand<C>, run: (command: C) => T | Promise<T>): Promise<T> {
  try {
    return await run(wire.command);
  } catch (error) {
    if (!(error instanceof DomainError) || error.field === undefined) throw error;
    throw new DomainError(error.code, error.message, wireFieldOf(wire.fields, error.field));
  }
}

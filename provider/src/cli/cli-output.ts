/** How the `dpl` command prints: tables for people, `--json` for scripts. */
import Table from "cli-table3";

export type Cell = string | number | boolean | null | undefined;

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? String(value) : value.toFixed(1)} ${units[unit] ?? "B"}`;
}

export function formatTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "-" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface Printer {
  /** Rows as a table (or, with --json, the records themselves). */
  table(head: string[], rows: Cell[][], records: unknown): void;
  /** One object: key/value lines (or JSON). */
  object(fields: Record<string, Cell>, record: unknown): void;
}

export function printer(json: boolean, out: NodeJS.WritableStream = process.stdout): Printer {
  const writeJson = (value: unknown): void => {
    out.write(`${JSON.stringify(value, null, 2)}\n`);
  };
  return {
    table(head, rows, records) {
      if (json) {
        writeJson(records);
        return;
      }
      const table = new Table({ head, style: { head: [], border: [] } });
      for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? "-" : String(cell))));
      out.write(`${table.toString()}\n`);
    },
    object(fields, record) {
      if (json) {
        writeJson(record);
        return;
      }
      const table = new Table({ style: { head: [], border: [] } });
      for (const [key, value] of Object.entries(fields)) table.push({ [key]: value === null || value === undefined ? "-" : String(value) });
      out.write(`${table.toString()}\n`);
    },
  };
}

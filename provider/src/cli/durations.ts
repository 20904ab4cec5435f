/** Intervals on the `dpl` command line: "7d", "12h", "30m", "45s", "1d12h", or "off". */

const UNIT_SECONDS: Record<string, number> = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 };

/** Seconds for a duration, null for "off"; throws naming the option on anything else. */
export function parseInterval(option: string, text: string): number | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === "off" || trimmed === "none") return null;
  if (!/^(\d+[wdhms])+$/.test(trimmed)) throw new Error(`${option}: ${JSON.stringify(text)} is not a duration like 7d, 12h, 30m, 45s or 1d12h (or off)`);
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([wdhms])/g)) seconds += Number(amount) * (UNIT_SECONDS[unit ?? "s"] ?? 1);
  return seconds;
}

/** "7d", "1d12h", "45s"; "-" for no interval. */
export function formatInterval(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "-";
  let rest = seconds;
  const parts: string[] = [];
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    if (unit === "w" || rest < size) continue;
    parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  return parts.length === 0 ? "0s" : parts.join("");
}

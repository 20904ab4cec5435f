/**
 * A server's `ctime` as an ISO date. DPL servers differ in the unit (seconds or milliseconds);
 * a value above 1e11 is milliseconds (1e11 seconds would be the year 5138).
 */
export function isoTimeOf(ctime: number): string {
  return new Date(ctime > 1e11 ? ctime : ctime * 1000).toISOString();
}

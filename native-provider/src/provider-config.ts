/**
 * The provider's `dpl:*` settings: CheckConfig checks them by the same zod schema the package
 * schema's config is written from, so a typo in a key or a value fails the preview naming it;
 * Configure hands them to the hooks.
 */
import { ProviderConfig, type PropertyBag } from "@prophetstor/dpl-provider";

/** Keys the engine itself adds to every provider's config. */
const ENGINE_KEYS = new Set(["version", "pluginDownloadURL"]);

/** The engine sends config values as strings (older engines) or typed; both are accepted. */
function typed(key: string, value: unknown): unknown {
  if (key === "insecure" && typeof value === "string") return value === "true" || value === "1";
  return value;
}

export function configFailures(news: PropertyBag): { property: string; reason: string }[] {
  const known = ProviderConfig.shape;
  const failures: { property: string; reason: string }[] = [];
  const candidate: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(news)) {
    if (ENGINE_KEYS.has(key)) continue;
    if (!Object.hasOwn(known, key)) {
      failures.push({ property: key, reason: `dpl:${key} is not a setting of the DPL provider (known: ${Object.keys(known).join(", ")})` });
      continue;
    }
    candidate[key] = typed(key, value);
  }
  const parsed = ProviderConfig.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) failures.push({ property: issue.path.join("."), reason: `dpl:${issue.path.join(".")}: ${issue.message}` });
  }
  return failures;
}

/**
 * The `dpl:*` settings as the hooks look them up ("dpl:endpoint"): from the request's typed args
 * (keys without the namespace, secrets unwrapped), else from the legacy string variables, whose
 * keys are "dpl:config:endpoint".
 */
export function configSource(args: PropertyBag, variables: { get(key: string): string | undefined }): { get(key: string): string | undefined } {
  return {
    get(key) {
      const bare = key.replace(/^dpl:/, "");
      const typed = args[bare];
      if (typed !== undefined && typed !== null) return typeof typed === "string" ? typed : JSON.stringify(typed);
      return variables.get(`dpl:config:${bare}`) ?? variables.get(key);
    },
  };
}

/** The real SQLite metadata store in a temporary directory, for tests of core pieces that need only records. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteMetadataStore } from "../../server/src/engines/sqlite/metadata-db";

export interface TemporaryStore {
  store: SqliteMetadataStore;
  /** Closes the store and removes its directory. */
  dispose(): void;
}

export function openTemporaryStore(): TemporaryStore {
  const dir = mkdtempSync(join(tmpdir(), "dpl-store-"));
  const store = new SqliteMetadataStore(join(dir, "metadata.db"));
  return {
    store,
    dispose: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

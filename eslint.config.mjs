// typescript-eslint's strict type-checked rules, plus the import boundaries of docs/ARCHITECTURE.md.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const boundary = (patterns) => ["error", { patterns }];
const onlyWire = { regex: "^@prophetstor/dpl-provider(?!/wire$)", message: "The server imports only @prophetstor/dpl-provider/wire." };

export default tseslint.config(
  // sdk/nodejs is written by `pulumi package gen-sdk` (scripts/generate-native-sdks.sh), checked there.
  { ignores: ["**/dist/**", "**/node_modules/**", ".work/**", "**/*.js", "**/*.mjs", "**/*.cjs", "tools/**", "sdk/nodejs/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["provider/src/**/*.ts", "sdk/src/**/*.ts", "native-provider/src/**/*.ts"],
    rules: {
      "no-restricted-imports": boundary([
        { group: ["**/server/**", "@prophetstor/dpl-server", "@prophetstor/dpl-server/*"], message: "The provider and SDK never import the server." },
      ]),
    },
  },
  {
    files: ["provider/src/wire/**/*.ts"],
    rules: {
      "no-restricted-imports": boundary([
        { group: ["**/client/**", "**/resources/**", "undici", "@pulumi/*"], message: "The wire contract depends on zod only." },
      ]),
    },
  },
  {
    files: ["server/src/**/*.ts"],
    rules: {
      "no-restricted-imports": boundary([
        onlyWire,
        { group: ["**/provider/src/**"], message: "The server imports only @prophetstor/dpl-provider/wire." },
        { group: ["@pulumi/*"], message: "The server knows nothing of Pulumi." },
      ]),
    },
  },
  {
    files: ["server/src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": boundary([
        { group: ["**/api/**", "**/engines/**", "node:child_process", "child_process", "node:fs", "fs", "node:fs/promises", "fs/promises", "better-sqlite3", "fastify"], message: "core/ is domain logic: no I/O, no HTTP, no engines (use ports.ts)." },
        onlyWire,
      ]),
    },
  },
  {
    files: ["server/src/api/**/*.ts"],
    rules: {
      "no-restricted-imports": boundary([
        { group: ["**/engines/**", "node:child_process", "child_process"], message: "api/ talks to core/, never to engines or commands." },
        onlyWire,
      ]),
    },
  },
);

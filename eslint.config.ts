import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

/** Packages and the API router tree must stay runtime-agnostic (Node, edge, browser). */
const runtimeAgnostic = [
  "packages/config/src/**",
  "packages/cache/src/**",
  "packages/ratelimit/src/**",
  "packages/jobs/src/**",
  "apps/api/src/trpc/**",
];

export default defineConfig(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/.cache/**", "**/.turbo/**", "**/.data/**"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      "@typescript-eslint/consistent-type-imports": [
        "error",
        { prefer: "type-imports", fixStyle: "separate-type-imports" },
      ],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportDefaultDeclaration", message: "Use named exports." },
      ],
    },
  },
  {
    files: ["**/src/**/*.ts", "**/src/**/*.tsx"],
    ignores: [
      "**/env.ts",
      "**/cli.ts",
      "**/main.ts",
      "packages/testing/**",
      "**/*.test.ts",
      "**/*.test.tsx",
    ],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read the environment only in env.ts." },
      ],
    },
  },
  {
    files: runtimeAgnostic,
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["node:*"], message: "Runtime-agnostic code: no node:* imports." }] },
      ],
    },
  },
  {
    files: ["**/*.config.ts", "eslint.config.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
  { files: ["**/*.js", "**/*.mjs"], extends: [tseslint.configs.disableTypeChecked] },
);

// ESLint 9 flat config. It follows the Effect v3 repository's eslint.config.mjs, cut down for this monorepo.
// dprint does the formatting through the `@effect/dprint` rule. There is no prettier, so run `pnpm lint-fix`.
import * as effectEslint from "@effect/eslint-plugin"
import { defineConfig, globalIgnores } from "eslint/config"
import tseslint from "typescript-eslint"

const sourceFiles = ["packages/*/src/**/*.{ts,mts,cts,tsx}", "apps/*/src/**/*.{ts,mts,cts,tsx}"]
const testFiles = ["packages/*/test/**/*.{ts,mts,cts,tsx}", "apps/*/test/**/*.{ts,mts,cts,tsx}"]

export default defineConfig(
  globalIgnores([
    "**/node_modules/",
    "**/dist/",
    "**/build/",
    "**/out/",
    "**/coverage/",
    "**/.turbo/",
    "**/*.tsbuildinfo"
  ]),
  tseslint.configs.recommended,
  effectEslint.configs.dprint,
  {
    files: ["**/*.{ts,mts,cts,tsx,js,mjs,cjs}"],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2022,
      sourceType: "module"
    },
    linterOptions: {
      reportUnusedDisableDirectives: "error"
    },
    rules: {
      "object-shorthand": "error",
      "no-fallthrough": "off",
      "require-yield": "off",
      "prefer-rest-params": "off",
      "prefer-spread": "off",
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='push'] > SpreadElement.arguments",
          message: "Do not use spread arguments in Array.push"
        }
      ],

      "@typescript-eslint/array-type": ["error", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-unsafe-function-type": "off",
      "@typescript-eslint/no-wrapper-object-types": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/ban-ts-comment": "off",

      "@effect/dprint": [
        "error",
        {
          config: {
            indentWidth: 2,
            lineWidth: 120,
            semiColons: "asi",
            quoteStyle: "alwaysDouble",
            trailingCommas: "never",
            operatorPosition: "maintain",
            "arrowFunction.useParentheses": "force"
          }
        }
      ]
    }
  },
  {
    // Library and app source: import from deep modules ("effect/Effect"), no `any`, no console.
    files: sourceFiles,
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "no-console": "error",
      "@effect/no-import-from-barrel-package": [
        "error",
        { packageNames: ["effect", "@effect/platform"] }
      ]
    }
  },
  {
    // Library tests use Effect's Console or assertions, not console.*.
    files: ["packages/*/test/**/*.{ts,mts,cts,tsx}"],
    rules: {
      "no-console": "error"
    }
  },
  {
    files: testFiles,
    rules: {
      "@typescript-eslint/no-explicit-any": "warn"
    }
  },
  {
    // Benchmarks and helper scripts may print to the console.
    files: ["**/bench/**", "**/scripts/**"],
    rules: {
      "no-console": "off"
    }
  }
)

import { basename } from "node:path"
import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// Workspace packages resolve to their TypeScript sources through the "@stagebeam/source" export condition,
// so tests run without a build step. Every project also writes a JSON report that .ci/run sums up.
export const projectConfig = (projectDir: string) =>
  defineConfig({
    resolve: { conditions: ["@stagebeam/source", ...defaultServerConditions] },
    ssr: { resolve: { conditions: ["@stagebeam/source", ...defaultServerConditions] } },
    test: {
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      reporters: ["default", "json"],
      outputFile: { json: `${import.meta.dirname}/reports/vitest/${basename(projectDir)}.json` },
    },
  })

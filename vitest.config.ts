import { defineConfig } from "vitest/config"

// Three projects: `unit` (pure and in-memory, seconds), `e2e` (a real Docker engine and real servers),
// `gauntlet` (slow reliability runs, docs/reliability.md). `npm test` runs all three; `npm run gauntlet`
// runs the gauntlet alone.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "test/property/**/*.test.ts"],
          testTimeout: 20_000
        }
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One engine: e2e files share it, so they run one at a time.
          fileParallelism: false,
          env: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" }
        }
      },
      {
        test: {
          name: "gauntlet",
          include: ["test/gauntlet/**/*.test.ts"],
          testTimeout: 2_400_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          env: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" }
        }
      }
    ]
  }
})

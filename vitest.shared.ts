import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["@image-gen/source"] },
  ssr: { resolve: { conditions: ["@image-gen/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    fakeTimers: { toFake: undefined },
    sequence: { concurrent: true },
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})

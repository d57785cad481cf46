import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { runCli, tempDir } from "./utils/harness.js"

describe("image-gen models", () => {
  it.scopedLive("lists the local model", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const result = yield* runCli(["models"], { cwd })
      assert.strictEqual(result.code, 0)
      assert.deepStrictEqual(result.stderr, [])
      assert.match(result.stdout[0]!, /^local:placeholder-1 \(default\) {2}Local placeholder/)
      assert.include(result.stdout.join("\n"), "also: local, placeholder")
      assert.include(result.stdout.join("\n"), "sides 64-4096px")
    }))

  it.scopedLive("--json prints one object", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      for (const args of [["models", "--json"], ["models", "--provider", "local", "--json"]]) {
        const result = yield* runCli(args, { cwd })
        assert.strictEqual(result.code, 0)
        assert.strictEqual(result.stdout.length, 1)
        const json = JSON.parse(result.stdout[0]!)
        assert.deepStrictEqual(json.providers, ["local"])
        assert.strictEqual(json.models.length, 1)
        const [model] = json.models
        assert.strictEqual(model.address, "local:placeholder-1")
        assert.strictEqual(model.provider, "local")
        assert.strictEqual(model.id, "placeholder-1")
        assert.strictEqual(model.default, true)
        assert.strictEqual(model.capabilities.maxDimension, 4096)
        assert.deepStrictEqual(model.price.perImage, 0)
      }
    }))
})

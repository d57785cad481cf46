import { assert, describe, it } from "@effect/vitest"
import { ImageError, Progress } from "@image-gen/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CliError from "../src/CliError.js"
import * as ExitCode from "../src/ExitCode.js"
import * as InputImages from "../src/InputImages.js"
import * as ProgressView from "../src/ProgressView.js"
import * as Providers from "../src/Providers.js"

describe("ExitCode", () => {
  const blocked = new ImageError.ContentBlocked({ provider: "a", model: "m" })
  const down = new ImageError.ProviderUnavailable({ provider: "b", model: "m", status: 503 })

  it("maps errors to exit codes", () => {
    assert.strictEqual(ExitCode.fromError(new ImageError.InvalidRequest({ field: "prompt", detail: "x" })).code, 2)
    assert.strictEqual(ExitCode.fromError(new ImageError.UnknownProvider({ provider: "x", installed: [] })).code, 2)
    assert.strictEqual(ExitCode.fromError(new CliError.BadInput({ detail: "x" })).code, 2)
    assert.strictEqual(ExitCode.fromError(blocked).code, 3)
    assert.strictEqual(ExitCode.fromError(down).code, 1)
    assert.strictEqual(ExitCode.fromError(new CliError.Unexpected({ detail: "x" })).code, 1)
    // A provider's own 400 was sent, so it is not "nothing sent" bad input.
    assert.strictEqual(
      ExitCode.fromError(new ImageError.InvalidRequest({ provider: "a", status: 400, detail: "bad" })).code,
      1
    )
  })

  it("a fallback chain is blocked only when every model blocked", () => {
    const chain = (...errors: ReadonlyArray<ImageError.ImageError>) =>
      new ImageError.FallbackExhausted({ failures: errors.map((error) => ({ provider: "p", model: "m", error })) })
    assert.strictEqual(ExitCode.fromError(chain(blocked, blocked)).code, 3)
    assert.strictEqual(ExitCode.fromError(chain(down, blocked)).code, 1)
  })

  it("every message is one line", () => {
    assert.strictEqual(ExitCode.oneLine("a\n  b\n\nc  d "), "a b c d")
  })
})

describe("InputImages", () => {
  it("sniffs media types from magic bytes, then the extension", () => {
    assert.strictEqual(
      InputImages.sniffMediaType(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10])),
      "image/png"
    )
    assert.strictEqual(InputImages.sniffMediaType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0])), "image/jpeg")
    assert.strictEqual(InputImages.sniffMediaType(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ")), "image/webp")
    assert.strictEqual(InputImages.sniffMediaType(new TextEncoder().encode("GIF89a...")), "image/gif")
    assert.strictEqual(InputImages.sniffMediaType(new TextEncoder().encode("hello")), undefined)
    assert.strictEqual(InputImages.mediaTypeFromName("photo.JPG"), "image/jpeg")
    assert.strictEqual(InputImages.mediaTypeFromName("notes.txt"), undefined)
  })
})

describe("Providers", () => {
  const keyed: Providers.ProviderSpec = {
    id: "fal",
    description: "fal.ai",
    envVars: ["FAL_KEY"],
    layer: Layer.die("unused")
  }
  const specs = [keyed, ...Providers.all]

  it("defaults to a configured keyed provider, else the local one", () => {
    assert.deepStrictEqual(Providers.defaultModel(["local", "fal"], specs), { address: "fal", keyless: undefined })
    assert.strictEqual(Providers.defaultModel(["local"], specs)?.address, "local")
    assert.strictEqual(Providers.defaultModel(["local"], specs)?.keyless?.description, "the offline local provider")
  })

  it("names a known provider whose key is missing", () => {
    assert.deepStrictEqual(Providers.unconfigured("fal:flux-pro", ["local"], specs)?.envVars, ["FAL_KEY"])
    assert.deepStrictEqual(Providers.unconfigured("fal", ["local"], specs)?.envVars, ["FAL_KEY"])
    assert.strictEqual(Providers.unconfigured("fal:flux-pro", ["local", "fal"], specs), undefined)
    assert.strictEqual(Providers.unconfigured("nope:x", ["local"], specs), undefined)
  })

  it.effect("installs keyed providers only when their key is set", () =>
    Effect.gen(function*() {
      const ids = (list: ReadonlyArray<Providers.ProviderSpec>) => list.map((s) => s.id)
      assert.deepStrictEqual(ids(yield* Providers.configured(specs)), ["local"])
    }))
})

describe("ProgressView", () => {
  it("describes waiting states", () => {
    assert.strictEqual(
      ProgressView.statusOf(
        Progress.ProgressEvent.Queued({ provider: "fal", requestId: "r", position: 3, elapsedMs: 0 })
      ),
      "queued at fal, position 3"
    )
    assert.strictEqual(
      ProgressView.statusOf(
        Progress.ProgressEvent.Running({ provider: "fal", requestId: "r", logs: ["step 5"], percent: 40, elapsedMs: 0 })
      ),
      "running at fal 40%: step 5"
    )
    assert.strictEqual(
      ProgressView.noticeOf(
        Progress.ProgressEvent.Retrying({ provider: "fal", model: "m", attempt: 1, delayMs: 1500, reason: "503" })
      ),
      "attempt 1 with fal:m failed (503); retrying in 1s 500ms"
    )
  })
})

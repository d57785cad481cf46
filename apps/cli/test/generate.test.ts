import { assert, describe, it } from "@effect/vitest"
import { ImageRequest } from "@image-gen/core"
import { LocalProvider } from "@image-gen/local"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { listDir, pngSize, readFile, runCli, tempDir } from "./utils/harness.js"
import * as StubProvider from "./utils/StubProvider.js"

const notice = "No model given and no provider key set: using the offline local provider (local:placeholder-1)."
const quickRetry = { retry: { attempts: 2, maxWait: "10 millis", baseDelay: "1 millis" } } as const

describe("image-gen generate", () => {
  it.scopedLive("writes a PNG of the requested size and prints a summary", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const result = yield* runCli([
        "generate",
        "-p",
        "a lighthouse on a cliff at sunset",
        "--size",
        "320x200",
        "-o",
        "out.png"
      ], {
        cwd
      })
      assert.strictEqual(result.code, 0)
      assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, "out.png"))), { width: 320, height: 200 })
      assert.deepStrictEqual(yield* listDir(cwd), ["out.png"])
      assert.strictEqual(result.stdout.length, 2)
      assert.strictEqual(result.stdout[0], "wrote out.png (320x200 image/png)")
      assert.match(result.stdout[1]!, /^local:placeholder-1, free, \d+ ms$/)
      assert.deepStrictEqual(result.stderr, [notice])
      assert.strictEqual(result.progress, "", "no progress when stderr is not a terminal")
    }))

  it.scopedLive("-o x.jpg without --format asks for the format its extension names", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const result = yield* runCli(["generate", "-p", "a red boat", "-m", "local", "--size", "96x64", "-o", "x.jpg"], {
        cwd
      })
      assert.strictEqual(result.code, 0, result.stderr.join("\n"))
      const bytes = yield* readFile(join(cwd, "x.jpg"))
      assert.deepStrictEqual(Array.from(bytes.subarray(0, 3)), [0xff, 0xd8, 0xff])
      assert.strictEqual(result.stdout[0], "wrote x.jpg (96x64 image/jpeg)")
    }))

  it.scopedLive("--json prints one object with the result", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const result = yield* runCli([
        "generate",
        "-p",
        "a red boat",
        "-m",
        "local",
        "--size",
        "128x96",
        "-o",
        "x.png",
        "--json"
      ], {
        cwd
      })
      assert.strictEqual(result.code, 0)
      assert.deepStrictEqual(result.stderr, [], "no notice when -m is given")
      assert.strictEqual(result.stdout.length, 1)
      const json = JSON.parse(result.stdout[0]!)
      assert.deepStrictEqual(Object.keys(json).sort(), [
        "attempts",
        "costUsd",
        "fallbackUsed",
        "images",
        "latencyMs",
        "model",
        "provider",
        "requestId",
        "status"
      ])
      assert.strictEqual(json.provider, "local")
      assert.strictEqual(json.model, "placeholder-1")
      assert.strictEqual(json.status, "completed")
      assert.strictEqual(json.costUsd, 0)
      assert.strictEqual(json.attempts, 1)
      assert.strictEqual(json.fallbackUsed, false)
      assert.isString(json.requestId)
      assert.isNumber(json.latencyMs)
      assert.deepStrictEqual(json.images, [
        { path: join(cwd, "x.png"), url: null, mediaType: "image/png", width: 128, height: 96 }
      ])
    }))

  it.scopedLive("-n 3 -o x.png writes x-1.png to x-3.png", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const result = yield* runCli(["generate", "-p", "birds", "-n", "3", "--size", "64x64", "-o", "x.png"], { cwd })
      assert.strictEqual(result.code, 0)
      assert.deepStrictEqual(yield* listDir(cwd), ["x-1.png", "x-2.png", "x-3.png"])
      for (const name of ["x-1.png", "x-2.png", "x-3.png"]) {
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 64, height: 64 })
      }
      assert.deepStrictEqual(result.stdout.slice(0, 3), [
        "wrote x-1.png (64x64 image/png)",
        "wrote x-2.png (64x64 image/png)",
        "wrote x-3.png (64x64 image/png)"
      ])
    }))

  it.scopedLive("without -o writes ./image-gen-<id>.<ext>, the extension from the format", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const png = yield* runCli(["generate", "-p", "a forest", "--size", "64x64"], { cwd })
      assert.strictEqual(png.code, 0)
      const jpeg = yield* runCli(["generate", "-p", "a forest", "--size", "64x64", "--format", "jpeg", "--json"], {
        cwd
      })
      assert.strictEqual(jpeg.code, 0)
      const files = yield* listDir(cwd)
      assert.strictEqual(files.length, 2)
      const pngName = files.find((f) => f.endsWith(".png"))!
      const jpgName = files.find((f) => f.endsWith(".jpg"))!
      assert.match(pngName, /^image-gen-[0-9a-f]{8}\.png$/)
      assert.match(jpgName, /^image-gen-[0-9a-f]{8}\.jpg$/)
      assert.strictEqual(png.stdout[0], `wrote ${pngName} (64x64 image/png)`)
      assert.deepStrictEqual(JSON.parse(jpeg.stdout[0]!).images[0].path, join(cwd, jpgName))
      assert.deepStrictEqual(Array.from((yield* readFile(join(cwd, jpgName))).subarray(0, 3)), [0xff, 0xd8, 0xff])
    }))

  it.scopedLive("--image files are read as bytes, URLs passed as URLs; --mask is read too", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const stub = StubProvider.make()
      const first = yield* runCli(["generate", "-p", "sky", "-m", "local", "--size", "64x64", "-o", "in.png"], { cwd })
      assert.strictEqual(first.code, 0)
      const result = yield* runCli([
        "generate",
        "-p",
        "edit it",
        "-m",
        "stub:ok",
        "--image",
        "in.png",
        "--image",
        "https://example.com/cat.jpg",
        "--mask",
        "in.png",
        "-o",
        "edited.png"
      ], { cwd, providers: [stub.layer] })
      assert.strictEqual(result.code, 0, result.stderr.join("\n"))
      assert.strictEqual(stub.calls.length, 1)
      const [bytes, url] = stub.calls[0]!.request.images!
      assert.instanceOf(bytes, ImageRequest.ImageBytes)
      assert.strictEqual(bytes.mediaType, "image/png")
      assert.strictEqual(bytes.name, "in.png")
      assert.deepStrictEqual(bytes.data, yield* readFile(join(cwd, "in.png")))
      assert.instanceOf(url, ImageRequest.ImageUrl)
      assert.strictEqual(url.url, "https://example.com/cat.jpg")
      assert.instanceOf(stub.calls[0]!.request.mask, ImageRequest.ImageBytes)
    }))

  it.scopedLive("an input image feeds the local provider (image-to-image)", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      yield* runCli(["generate", "-p", "sky", "-m", "local", "--size", "64x64", "-o", "in.png"], { cwd })
      const result = yield* runCli(
        [
          "generate",
          "-p",
          "the same, at night",
          "-m",
          "local",
          "--image",
          "in.png",
          "--size",
          "96x64",
          "-o",
          "out.png"
        ],
        { cwd }
      )
      assert.strictEqual(result.code, 0, result.stderr.join("\n"))
      assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, "out.png"))), { width: 96, height: 64 })
    }))

  it.scopedLive("content blocked exits 3 with one line", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const stub = StubProvider.make()
      const result = yield* runCli(["generate", "-p", "something", "-m", "stub:blocked", "-o", "x.png"], {
        cwd,
        providers: [stub.layer]
      })
      assert.strictEqual(result.code, 3)
      assert.deepStrictEqual(result.stdout, [])
      assert.strictEqual(result.stderr.length, 1)
      assert.match(
        result.stderr[0]!,
        /^image-gen: stub:blocked: content blocked by the provider's safety system: nudity filter/
      )
      assert.strictEqual(stub.calls.length, 1, "a block is never retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a provider failure exits 1 with one line", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const stub = StubProvider.make()
      const result = yield* runCli(["generate", "-p", "something", "-m", "stub:down", "-o", "x.png"], {
        cwd,
        providers: [stub.layer],
        router: quickRetry
      })
      assert.strictEqual(result.code, 1)
      assert.strictEqual(result.stderr.length, 1)
      assert.match(result.stderr[0]!, /^image-gen: stub:down: provider unavailable \(HTTP 503\)/)
      assert.strictEqual(stub.calls.length, 2, "retried once (attempts: 2)")
    }))

  it.scopedLive("falls back, and shows retries and fallbacks on a terminal", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const stub = StubProvider.make()
      const result = yield* runCli(
        [
          "generate",
          "-p",
          "a house",
          "-m",
          "stub:down",
          "--fallback",
          "local",
          "--size",
          "64x64",
          "-o",
          "x.png",
          "--json"
        ],
        { cwd, providers: [stub.layer, LocalProvider.layer()], router: quickRetry, tty: true }
      )
      assert.strictEqual(result.code, 0, result.stderr.join("\n"))
      const json = JSON.parse(result.stdout[0]!)
      assert.strictEqual(json.fallbackUsed, true)
      assert.strictEqual(json.provider, "local")
      assert.strictEqual(json.attempts, 3)
      assert.include(result.progress, "generating with stub:down")
      assert.include(result.progress, "attempt 1 with stub:down failed")
      assert.include(result.progress, "falling back to local:placeholder-1")
      assert.include(result.progress, "generating with local:placeholder-1")
      assert.isTrue(result.progress.endsWith("\r\u001b[2K"), "the status line is cleared at the end")
    }))
})

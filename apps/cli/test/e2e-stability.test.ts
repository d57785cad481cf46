/**
 * `image-gen generate` end to end against the Stability fake: the real provider wiring configured only by
 * the environment, over loopback HTTP.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeStability from "@image-gen/stability/testing"
import { Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const env = (fake: FakeStability.Service, key: string = fake.apiKey) => ({
  STABILITY_API_KEY: key,
  STABILITY_BASE_URL: fake.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2"
})

const route = (endpoint: string) => ({ method: "POST", path: `/v2beta/stable-image/${endpoint}` })

describe("image-gen generate with Stability", () => {
  it.scopedLive("generates two images: one call per image, consecutive seeds, the size as an aspect ratio", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse at dawn",
          "-m",
          "stability:stable-image-ultra",
          "--size",
          "1344x768",
          "-n",
          "2",
          "--seed",
          "7",
          "-o",
          "out.png",
          "--json"
        ],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(run.stderr, [])
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 1344, height: 768 })
      }
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "stability")
      assert.strictEqual(json.model, "stable-image-ultra")
      assert.closeTo(json.costUsd, 0.16, 1e-9)
      assert.strictEqual(json.images.length, 2)
      assert.deepStrictEqual(json.images.map((i: { mediaType: string }) => i.mediaType), ["image/png", "image/png"])

      assert.strictEqual(yield* fake.server.count(route("generate/ultra")), 2)
      const forms = yield* fake.forms
      assert.deepStrictEqual(forms.map((f) => f.endpoint), ["ultra", "ultra"])
      assert.deepStrictEqual(forms.map((f) => f.fields.seed).sort(), [7, 8])
      for (const form of forms) {
        assert.strictEqual(form.fields.aspect_ratio, "16:9")
        assert.strictEqual(form.fields.output_format, "png")
        assert.strictEqual(form.fields.prompt, "a lighthouse at dawn")
      }
      const [request] = yield* fake.server.requests
      assert.strictEqual(request!.headers["authorization"], `Bearer ${fake.apiKey}`)
    }))

  it.scopedLive("--aspect-ratio goes to aspect_ratio on the core endpoint", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a fox", "-m", "stability:stable-image-core", "--aspect-ratio", "9:16", "-o", "fox.png"],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.isDefined(pngSize(yield* readFile(join(cwd, "fox.png"))))
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "core")
      assert.strictEqual(form!.fields.aspect_ratio, "9:16")
      assert.match(run.stdout.at(-1)!, /^stability:stable-image-core, \$0\.03, /)
    }))

  it.scopedLive("inpaints: --image and --mask arrive as files at edit/inpaint", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      const input = FakeStability.png(64, 48)
      const mask = FakeStability.png(64, 48, 255)
      yield* writeFile(join(cwd, "in.png"), input)
      yield* writeFile(join(cwd, "mask.png"), mask)
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a red door",
          "-m",
          "stability:stable-image-inpaint",
          "--image",
          "in.png",
          "--mask",
          "mask.png",
          "-o",
          "edited.png",
          "--json"
        ],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["edited.png", "in.png", "mask.png"])
      assert.isDefined(pngSize(yield* readFile(join(cwd, "edited.png"))))
      assert.strictEqual(JSON.parse(run.stdout[0]!).model, "stable-image-inpaint")
      assert.strictEqual(yield* fake.server.count(route("edit/inpaint")), 1)
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "inpaint")
      const image = form!.fields.image as File
      const maskFile = form!.fields.mask as File
      assert.instanceOf(image, File)
      assert.instanceOf(maskFile, File)
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => image.arrayBuffer())), input)
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => maskFile.arrayBuffer())), mask)
    }))

  it.scopedLive("image-to-image: --image goes to ultra with a strength", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      const input = FakeStability.png(32, 32)
      yield* writeFile(join(cwd, "in.png"), input)
      const run = yield* runConfigured(
        ["generate", "-p", "in oil", "-m", "stability:stable-image-ultra", "--image", "in.png", "-o", "oil.png"],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "ultra")
      assert.instanceOf(form!.fields.image, File)
      assert.strictEqual((form!.fields.image as File).size, input.byteLength)
      assert.isNumber(form!.fields.strength)
    }))

  it.scopedLive("content moderation (403) exits 3 with one line, not retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "something forbidden", "-m", "stability:stable-image-core", "-o", "x.png"],
        { cwd, env: env(fake) }
      )
      assertOneErrorLine(run, {
        code: 3,
        emptyStdout: true,
        match: /^image-gen: stability:stable-image-core: content blocked/
      })
      assert.strictEqual(yield* fake.server.count(), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a CONTENT_FILTERED (blurred) answer exits 3 too", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "blurry-nsfw", "-m", "stability:stable-image-core", "-o", "x.png"],
        { cwd, env: env(fake) }
      )
      assertOneErrorLine(run, { code: 3, includes: ["content blocked"] })
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a 429 with Retry-After: 1 is retried once and succeeds", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      yield* fake.server.script(route("generate/core"), [Fault.rateLimited({ retryAfterSeconds: 1 })])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "stability:stable-image-core", "-o", "boat.png", "--json"],
        { cwd, env: env(fake) }
      )
      assertRetriedAfterWait(run, yield* fake.server.count(route("generate/core")))
      assert.deepStrictEqual(yield* listDir(cwd), ["boat.png"])
    }))

  it.scopedLive("a wrong key exits 1 with one line naming STABILITY_API_KEY", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "stability:stable-image-core", "-o", "x.png"],
        { cwd, env: env(fake, "sk-wrong") }
      )
      assertOneErrorLine(run, {
        code: 1,
        match: /^image-gen: /,
        includes: ["STABILITY_API_KEY"],
        excludes: ["sk-wrong"]
      })
      assert.strictEqual(yield* fake.server.count(), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("what the model cannot do exits 2 before any request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const cwd = yield* tempDir
      yield* writeFile(join(cwd, "in.png"), FakeStability.png(16, 16))
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "stability:stable-image-core", "--aspect-ratio", "4:3"], "aspect ratio"],
        [["-m", "stability:stable-image-core", "--size", "1000x1000"], "1000x1000"],
        [["-m", "stability:sd3.5-large", "--format", "webp"], "webp"],
        [["-m", "stability:stable-image-core", "--image", "in.png"], "stability:stable-image-core"],
        [["-m", "stability:stable-image-inpaint"], "stability:stable-image-inpaint"],
        [["-m", "stability:stable-image-ultra", "--resolution", "4K"], "4K"]
      ]
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "x",
        cwd,
        env: env(fake),
        requestCount: fake.server.count(),
        emptyStdout: true,
        files: ["in.png"]
      })
    }))
})

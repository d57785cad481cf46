/**
 * `image-gen generate` end to end against the Recraft fake: the real provider wiring configured only by the
 * environment, over loopback HTTP (the generation call and the download of the result URLs).
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeRecraft from "@image-gen/recraft/testing"
import { Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const env = (fake: FakeRecraft.Service, token: string = fake.apiKey) => ({
  RECRAFT_API_TOKEN: token,
  RECRAFT_BASE_URL: fake.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2"
})

const generations = { method: "POST", path: "/v1/images/generations" }
const downloads = { method: "GET", path: "/files/*" }

describe("image-gen generate with Recraft", () => {
  it.scopedLive("generates two PNGs in one call: size, n, seed and format mapped", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse, flat illustration",
          "-m",
          "recraft:recraftv4_1",
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
        // The fake renders at most 256px a side.
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 256, height: 256 })
      }
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "recraft")
      assert.strictEqual(json.model, "recraftv4_1")
      assert.closeTo(json.costUsd, 0.08, 1e-9, "80 API units")
      assert.strictEqual(json.images.length, 2)
      for (const image of json.images) {
        assert.strictEqual(image.mediaType, "image/png")
        assert.match(image.url, /^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f-]+\.png\?exp=\d+$/)
      }

      assert.strictEqual(yield* fake.server.count(generations), 1, "n = 2 fits one call")
      assert.strictEqual(yield* fake.server.count(downloads), 2)
      const { body, endpoint } = (yield* fake.bodies)[0]!
      assert.strictEqual(endpoint, "generations")
      assert.strictEqual(body.model, "recraftv4_1")
      assert.strictEqual(body.size, "1344x768")
      assert.strictEqual(body.n, 2)
      assert.strictEqual(body.random_seed, 7)
      assert.strictEqual(body.image_format, "png")
      const [request] = yield* fake.server.requestsMatching(generations)
      assert.strictEqual(request!.headers["authorization"], `Bearer ${fake.apiKey}`)
      const [download] = yield* fake.server.requestsMatching(downloads)
      assert.isUndefined(download!.headers["authorization"], "result downloads carry no token")
    }))

  it.scopedLive("a vector model with --format svg writes an SVG file", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a fox logo",
          "-m",
          "recraft:recraftv4_1_vector",
          "--aspect-ratio",
          "1:1",
          "--format",
          "svg",
          "-o",
          "fox.svg",
          "--json"
        ],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(run.stderr, [], "no note: the file holds what its name says")
      assert.deepStrictEqual(yield* listDir(cwd), ["fox.svg"])
      const text = new TextDecoder().decode(yield* readFile(join(cwd, "fox.svg")))
      assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
      assert.include(text, "<title>a fox logo</title>")
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.model, "recraftv4_1_vector")
      assert.strictEqual(json.images[0].mediaType, "image/svg+xml")
      assert.strictEqual(json.images[0].path, join(cwd, "fox.svg"))
      assert.closeTo(json.costUsd, 0.08, 1e-9)
      const { body } = (yield* fake.bodies)[0]!
      assert.strictEqual(body.size, "1:1")
      assert.notProperty(body, "image_format", "vector models take no image_format")
    }))

  it.scopedLive("a vector model without --format, -o logo.svg, also writes SVG", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a fox logo", "-m", "recraft-vector", "-o", "logo.svg"],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(run.stdout.length, 2)
      assert.strictEqual(run.stdout[0], "wrote logo.svg (image/svg+xml)")
      assert.match(run.stdout[1]!, /^recraft:recraftv4_1_vector, \$0\.08, \d+ ms$/)
      assert.include(new TextDecoder().decode(yield* readFile(join(cwd, "logo.svg"))), "<svg")
    }))

  it.scopedLive("image-to-image: --image goes as a multipart file to /images/imageToImage", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      const input = FakeRecraft.png(48, 32)
      yield* writeFile(join(cwd, "in.png"), input)
      const run = yield* runConfigured(
        ["generate", "-p", "as a watercolour", "-m", "recraft:recraftv4_1", "--image", "in.png", "-o", "wc.png"],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.isDefined(pngSize(yield* readFile(join(cwd, "wc.png"))))
      assert.strictEqual(yield* fake.server.count({ method: "POST", path: "/v1/images/imageToImage" }), 1)
      const { body, endpoint } = (yield* fake.bodies)[0]!
      assert.strictEqual(endpoint, "imageToImage")
      assert.strictEqual(body.strength, 0.5)
      const image = body.image as File
      assert.instanceOf(image, File)
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => image.arrayBuffer())), input)
    }))

  it.scopedLive("inpainting: --image and --mask go to /images/inpaint", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      const input = FakeRecraft.png(48, 32)
      const mask = FakeRecraft.png(48, 32, 255)
      yield* writeFile(join(cwd, "in.png"), input)
      yield* writeFile(join(cwd, "mask.png"), mask)
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a red door",
          "-m",
          "recraft:recraftv4_1",
          "--image",
          "in.png",
          "--mask",
          "mask.png",
          "-o",
          "door.png",
          "--json"
        ],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["door.png", "in.png", "mask.png"])
      const { body, endpoint } = (yield* fake.bodies)[0]!
      assert.strictEqual(endpoint, "inpaint")
      assert.notProperty(body, "strength")
      assert.deepStrictEqual(
        new Uint8Array(yield* Effect.promise(() => (body.image as File).arrayBuffer())),
        input
      )
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => (body.mask as File).arrayBuffer())), mask)
    }))

  it.scopedLive("content moderation exits 3 with one line, not retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "something forbidden", "-m", "recraft:recraftv4_1", "-o", "x.png"],
        { cwd, env: env(fake) }
      )
      assertOneErrorLine(run, { code: 3, emptyStdout: true, match: /^image-gen: recraft:recraftv4_1: content blocked/ })
      assert.strictEqual(yield* fake.server.count(generations), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a 429 with Retry-After: 1 is retried once and succeeds", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      yield* fake.server.script(generations, [Fault.rateLimited({ retryAfterSeconds: 1 })])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "recraft:recraftv4_1", "-o", "boat.png", "--json"],
        { cwd, env: env(fake) }
      )
      assertRetriedAfterWait(run, yield* fake.server.count(generations))
      assert.deepStrictEqual(yield* listDir(cwd), ["boat.png"])
    }))

  it.scopedLive("a wrong token exits 1 with one line naming RECRAFT_API_TOKEN", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "recraft:recraftv4_1", "-o", "x.png"],
        { cwd, env: env(fake, "wrong-token") }
      )
      assertOneErrorLine(run, {
        code: 1,
        match: /^image-gen: /,
        includes: ["RECRAFT_API_TOKEN"],
        excludes: ["wrong-token"]
      })
      assert.strictEqual(yield* fake.server.count(), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("what the model cannot do exits 2 before any request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const cwd = yield* tempDir
      yield* writeFile(join(cwd, "in.png"), FakeRecraft.png(16, 16))
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "recraft:recraftv4_1", "--aspect-ratio", "21:9"], "aspect ratio 21:9 is not supported"],
        [["-m", "recraft:recraftv4_1", "--size", "1000x1000"], "size 1000x1000 is not supported"],
        [["-m", "recraft:recraftv4_1", "--format", "jpeg"], "output format jpeg is not supported"],
        [["-m", "recraft:recraftv4_1_vector", "--format", "png"], "use svg"],
        [["-m", "recraft:recraftv4_1", "--negative-prompt", "fog"], "negative prompt"],
        [["-m", "recraft:recraftv4_1", "--image", "in.png", "--size", "1024x1024"], "size with an input image"],
        [["-m", "recraft:recraftv4_1", "--mask", "in.png"], "mask"]
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

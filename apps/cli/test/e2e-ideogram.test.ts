/**
 * `image-gen generate` end to end against the Ideogram fake: the real provider wiring configured only by the
 * environment, over loopback HTTP (the multipart call and the download of the ephemeral result URLs).
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeIdeogram from "@image-gen/ideogram/testing"
import { Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const env = (fake: FakeIdeogram.Service, key: string = fake.apiKey) => ({
  IDEOGRAM_API_KEY: key,
  IDEOGRAM_BASE_URL: fake.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2"
})

const route = (endpoint: string) => ({ method: "POST", path: `/v1/ideogram-v3/${endpoint}` })
const downloads = { method: "GET", path: "/api/images/ephemeral/:name" }

const bytesOf = (file: unknown) => {
  assert.instanceOf(file, File)
  return Effect.promise(() => (file as File).arrayBuffer()).pipe(Effect.map((buffer) => new Uint8Array(buffer)))
}

describe("image-gen generate with Ideogram", () => {
  it.scopedLive("generates two images in one call: aspect ratio, num_images and seed mapped", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a letterpress poster that reads OPEN",
          "-m",
          "ideogram:ideogram-v3",
          "--aspect-ratio",
          "16:9",
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
        // The fake renders an eighth of the resolution it reports (1312x736 for 16:9).
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 164, height: 92 })
      }
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "ideogram")
      assert.strictEqual(json.model, "ideogram-v3")
      assert.closeTo(json.costUsd, 0.12, 1e-9, "two DEFAULT-speed images")
      assert.strictEqual(json.images.length, 2)
      for (const image of json.images) {
        assert.strictEqual(image.mediaType, "image/png")
        assert.match(image.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/images\/ephemeral\/[0-9a-f]+\.png\?exp=\d+/)
      }

      assert.strictEqual(yield* fake.server.count(route("generate")), 1, "n = 2 fits one call")
      assert.strictEqual(yield* fake.server.count(downloads), 2)
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "generate")
      assert.strictEqual(form!.fields.aspect_ratio, "16x9")
      assert.strictEqual(form!.fields.num_images, 2)
      assert.strictEqual(form!.fields.seed, 7)
      assert.notProperty(form!.fields, "resolution")
      const [request] = yield* fake.server.requestsMatching(route("generate"))
      assert.strictEqual(request!.headers["api-key"], fake.apiKey)
      const [download] = yield* fake.server.requestsMatching(downloads)
      assert.isUndefined(download!.headers["api-key"], "result downloads carry no key")
    }))

  it.scopedLive("--size goes to resolution", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a poster", "-m", "ideogram:ideogram-v3-turbo", "--size", "1024x1024", "-o", "p.png"],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, "p.png"))), { width: 128, height: 128 })
      const [form] = yield* fake.forms
      assert.strictEqual(form!.fields.resolution, "1024x1024")
      assert.strictEqual(form!.fields.rendering_speed, "TURBO")
      assert.notProperty(form!.fields, "aspect_ratio")
      assert.match(run.stdout.at(-1)!, /^ideogram:ideogram-v3-turbo, \$0\.03, /)
    }))

  it.scopedLive("remix: --image goes as a multipart file to /remix", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      const input = FakeIdeogram.png(40, 24)
      yield* writeFile(join(cwd, "in.png"), input)
      const run = yield* runConfigured(
        ["generate", "-p", "the same, in neon", "-m", "ideogram:ideogram-v3", "--image", "in.png", "-o", "neon.png"],
        { cwd, env: env(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.isDefined(pngSize(yield* readFile(join(cwd, "neon.png"))))
      assert.strictEqual(yield* fake.server.count(route("remix")), 1)
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "remix")
      assert.deepStrictEqual(yield* bytesOf(form!.fields.image), input)
    }))

  it.scopedLive("edit: --image and --mask go to /edit", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      const input = FakeIdeogram.png(40, 24)
      const mask = FakeIdeogram.png(40, 24, 0)
      yield* writeFile(join(cwd, "in.png"), input)
      yield* writeFile(join(cwd, "mask.png"), mask)
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a red door",
          "-m",
          "ideogram:ideogram-v3",
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
      assert.strictEqual(yield* fake.server.count(route("edit")), 1)
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "edit")
      assert.deepStrictEqual(yield* bytesOf(form!.fields.image), input)
      assert.deepStrictEqual(yield* bytesOf(form!.fields.mask), mask)
    }))

  it.scopedLive("a prompt failing the safety check (422) exits 3 with one line, not retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "something forbidden", "-m", "ideogram:ideogram-v3", "-o", "x.png"],
        { cwd, env: env(fake) }
      )
      assertOneErrorLine(run, {
        code: 3,
        emptyStdout: true,
        match: /^image-gen: ideogram:ideogram-v3: content blocked/
      })
      assert.strictEqual(yield* fake.server.count(route("generate")), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("every output image unsafe exits 3 too", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "unsafe-output", "-m", "ideogram:ideogram-v3", "-n", "2", "-o", "x.png"],
        { cwd, env: env(fake) }
      )
      assertOneErrorLine(run, { code: 3, includes: ["content blocked", "2 of 2 images"] })
      assert.strictEqual(yield* fake.server.count(route("generate")), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a 429 with Retry-After: 1 is retried once and succeeds", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      yield* fake.server.script(route("generate"), [Fault.rateLimited({ retryAfterSeconds: 1 })])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "ideogram:ideogram-v3", "-o", "boat.png", "--json"],
        { cwd, env: env(fake) }
      )
      assertRetriedAfterWait(run, yield* fake.server.count(route("generate")))
      assert.deepStrictEqual(yield* listDir(cwd), ["boat.png"])
    }))

  it.scopedLive("a wrong key exits 1 with one line naming IDEOGRAM_API_KEY", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "ideogram:ideogram-v3", "-o", "x.png"],
        { cwd, env: env(fake, "wrong-key") }
      )
      assertOneErrorLine(run, {
        code: 1,
        match: /^image-gen: /,
        includes: ["IDEOGRAM_API_KEY"],
        excludes: ["wrong-key"]
      })
      assert.strictEqual(yield* fake.server.count(), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("what the model cannot do exits 2 before any request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const cwd = yield* tempDir
      yield* writeFile(join(cwd, "in.png"), FakeIdeogram.png(16, 16))
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "ideogram:ideogram-v3", "--aspect-ratio", "21:9"], "aspect ratio 21:9 is not supported"],
        [["-m", "ideogram:ideogram-v3", "--size", "1000x1000"], "size 1000x1000 is not supported"],
        [["-m", "ideogram:ideogram-v3", "--format", "jpeg"], "output format jpeg is not supported"],
        [["-m", "ideogram:ideogram-v3", "--resolution", "2K"], "resolution 2K is not supported"],
        [["-m", "ideogram:ideogram-v3", "--mask", "in.png"], "mask"]
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

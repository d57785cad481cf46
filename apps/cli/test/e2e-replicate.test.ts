/**
 * `image-gen generate` against Replicate, end to end: the real provider wiring
 * (`ReplicateProvider.layerConfig`), configured only by environment variables pointing at the Replicate
 * fake on 127.0.0.1.
 *
 * The create call sends `Prefer: wait=10`, and the fake answers it once the output files exist (still
 * `processing`), so every run polls `urls.get` at least once. Replicate has no environment variable for its
 * poll cadence or deadline (default 10 minutes), so the deadline cannot be exercised from the command line.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeReplicate from "@image-gen/replicate/testing"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const token = "r8_e2e_token"

const filters = {
  create: { method: "POST", path: "/v1/models/:owner/:name/predictions" },
  createVersioned: { method: "POST", path: "/v1/predictions" },
  get: { method: "GET", path: "/v1/predictions/:id" },
  cancel: { method: "POST", path: "/v1/predictions/:id/cancel" },
  upload: { method: "POST", path: "/v1/files" }
} as const

const envOf = (fake: FakeReplicate.Service, overrides: Record<string, string> = {}): Record<string, string> => ({
  REPLICATE_API_TOKEN: token,
  REPLICATE_BASE_URL: fake.apiUrl,
  IMAGE_GEN_RETRY_MAX_WAIT: "2",
  ...overrides
})

const fakeReplicate = FakeReplicate.make({ token })

describe("image-gen generate with replicate (e2e)", () => {
  it.scopedLive("generate: -n 2 --aspect-ratio --seed, files saved, JSON summary, parameters mapped", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse",
          "-m",
          "replicate:flux-dev-replicate",
          "--aspect-ratio",
          "3:2",
          "-n",
          "2",
          "--seed",
          "7",
          "-o",
          "out.png",
          "--json"
        ],
        { cwd, env: envOf(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.isDefined(pngSize(yield* readFile(join(cwd, name))), `${name} is a PNG`)
      }
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "replicate")
      assert.strictEqual(json.model, "black-forest-labs/flux-dev")
      assert.strictEqual(json.status, "completed")
      assert.closeTo(json.costUsd, 0.05, 1e-9, "2 images at $0.025")
      assert.strictEqual(json.images.length, 2)

      assert.strictEqual(yield* fake.server.count(filters.create), 1, "one prediction for both images")
      const [prediction] = yield* fake.predictions
      assert.strictEqual(prediction!.model, "black-forest-labs/flux-dev")
      assert.strictEqual(prediction!.input.num_outputs, 2)
      assert.strictEqual(prediction!.input.aspect_ratio, "3:2")
      assert.strictEqual(prediction!.input.seed, 7)
      assert.strictEqual(prediction!.input.output_format, "png", "-o out.png asks for png")
      assert.match(prediction!.prefer ?? "", /^wait=\d+$/)
      const [create] = yield* fake.server.requestsMatching(filters.create)
      assert.strictEqual(create!.headers.authorization, `Bearer ${token}`)
    }))

  it.scopedLive("generate: --size on a width/height model (SDXL, by version) is sent as width and height", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a beach", "-m", "replicate:sdxl-replicate", "--size", "768x512", "-o", "sdxl.png"],
        { cwd, env: envOf(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* fake.server.count(filters.createVersioned), 1)
      const [prediction] = yield* fake.predictions
      assert.strictEqual(prediction!.model, "stability-ai/sdxl")
      assert.strictEqual(prediction!.input.width, 768)
      assert.strictEqual(prediction!.input.height, 512)
    }))

  it.scopedLive("edit: --image is uploaded through /v1/files and passed as the model's image", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      const png = fake.imageBytes("png")
      yield* writeFile(join(cwd, "in.png"), png)
      const run = yield* runConfigured(
        ["generate", "-p", "make it blue", "-m", "replicate:flux-dev-replicate", "--image", "in.png", "-o", "e.png"],
        { cwd, env: envOf(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      const files = yield* fake.files
      assert.strictEqual(files.length, 1)
      assert.deepStrictEqual(files[0]!.bytes, png)
      assert.strictEqual(files[0]!.contentType, "image/png")
      const [prediction] = yield* fake.predictions
      assert.strictEqual(prediction!.input.image, `${fake.apiUrl}/files/${files[0]!.id}`)
      assert.include(yield* listDir(cwd), "e.png")
    }))

  it.scopedLive("edit with --mask: SDXL receives image and mask, both uploaded", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      yield* writeFile(join(cwd, "in.png"), fake.imageBytes("png"))
      yield* writeFile(join(cwd, "mask.png"), fake.imageBytes("png"))
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "add a hat",
          "-m",
          "replicate:sdxl-replicate",
          "--image",
          "in.png",
          "--mask",
          "mask.png",
          "-o",
          "e.png"
        ],
        { cwd, env: envOf(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* fake.server.count(filters.upload), 2)
      const [prediction] = yield* fake.predictions
      const urls = (yield* fake.files).map((f) => `${fake.apiUrl}/files/${f.id}`)
      assert.include(urls, prediction!.input.image)
      assert.include(urls, prediction!.input.mask)
      assert.notStrictEqual(prediction!.input.image, prediction!.input.mask)
    }))

  it.scopedLive("content blocked: the safety checker's refusal exits 3 with one line, nothing written", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "something nsfw", "-m", "replicate:flux-dev-replicate", "-o", "x.png"],
        { cwd, env: envOf(fake) }
      )
      assertOneErrorLine(run, {
        code: 3,
        emptyStdout: true,
        match: /^image-gen: replicate:black-forest-labs\/flux-dev: content blocked .*NSFW/
      })
      assert.deepStrictEqual(yield* listDir(cwd), [])
      assert.strictEqual(yield* fake.server.count(filters.create), 1, "a block is never retried")
    }))

  it.scopedLive("a 429 with Retry-After: 1 on create is waited out: exit 0, two creates", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      yield* fake.server.script(filters.create, [FakeReplicate.throttled(1)])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "replicate", "-o", "x.png", "--json"], {
        cwd,
        env: envOf(fake)
      })
      assertRetriedAfterWait(run, yield* fake.server.count(filters.create))
      assert.strictEqual((yield* fake.predictions).length, 1, "the throttled create made no prediction")
    }))

  it.scopedLive("a status poll failing once with 503 is retried alone: exit 0, one prediction", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      yield* fake.server.script(filters.get, [FakeReplicate.unavailable(503)])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "replicate", "-o", "x.png"], {
        cwd,
        env: envOf(fake)
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* fake.server.count(filters.create), 1)
      assert.strictEqual(yield* fake.server.pendingScripts, 0, "the 503 was served")
      assert.isAtLeast(yield* fake.server.count(filters.get), 2)
      assert.deepStrictEqual(yield* listDir(cwd), ["x.png"])
    }))

  it.scopedLive("on a terminal the progress shows the running state with the percentage", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "replicate", "-o", "x.png"], {
        cwd,
        env: envOf(fake),
        tty: true
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.include(run.progress, "generating with replicate:black-forest-labs/flux-schnell")
      assert.include(run.progress, "submitted to replicate")
      assert.match(run.progress, /running at replicate \d+%/)
      assert.isTrue(run.progress.endsWith("\r\u001b[2K"), "the status line is cleared at the end")
    }))

  it.scopedLive("a failed prediction exits 1 with Replicate's error, created once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make({
        token,
        scenario: { outcome: "failed", error: "CUDA out of memory (E1001)" }
      })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "replicate", "-o", "x.png"], {
        cwd,
        env: envOf(fake)
      })
      assert.strictEqual(run.code, 1, run.stderr.join("\n"))
      assert.strictEqual(run.stderr.length, 1)
      assert.match(
        run.stderr[0]!,
        /^image-gen: replicate:black-forest-labs\/flux-schnell: job failed: CUDA out of memory/
      )
      assert.strictEqual(yield* fake.server.count(filters.create), 1, "a failed job is not created again")
    }))

  it.scopedLive("a wrong token exits 1 with one line naming REPLICATE_API_TOKEN", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "replicate", "-o", "x.png"], {
        cwd,
        env: envOf(fake, { REPLICATE_API_TOKEN: "r8_wrong" })
      })
      assertOneErrorLine(run, { code: 1, match: /^image-gen: .*authentication failed.*REPLICATE_API_TOKEN/ })
      assert.strictEqual(yield* fake.server.count(filters.create), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("capability violations exit 2 and send nothing to Replicate", () =>
    Effect.gen(function*() {
      const fake = yield* fakeReplicate
      const cwd = yield* tempDir
      yield* writeFile(join(cwd, "in.png"), fake.imageBytes("png"))
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "replicate", "--aspect-ratio", "7:3"], "aspect ratio 7:3"],
        [
          ["-m", "replicate:flux-dev-replicate", "--negative-prompt", "blur"],
          "negative prompt"
        ],
        [["-m", "replicate", "--image", "in.png"], "input image"],
        [
          ["-m", "replicate:flux-dev-replicate", "--image", "in.png", "--mask", "in.png"],
          "mask"
        ],
        [["-m", "replicate:sdxl-replicate", "--format", "webp"], "output format webp"]
      ]
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "a cat",
        cwd,
        env: envOf(fake),
        requestCount: fake.server.count(),
        alsoIncludes: ["not supported"],
        files: ["in.png"]
      })
    }))
})

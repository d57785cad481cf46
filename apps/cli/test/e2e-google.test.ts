/**
 * `image-gen generate` end to end against the Google fake: the real provider wiring
 * (`GoogleProvider.layerConfig` for Vertex AI, `GoogleStudioProvider.layerConfig` for AI Studio),
 * configured only by environment variables pointing at the fake on 127.0.0.1.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeGoogle from "@image-gen/google/testing"
import type { FakeRequest } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const vertexKey = "test-vertex-key"
const geminiKey = "test-gemini-key"

/** Vertex AI with an API key and no project: express mode. */
const vertexEnv = (fake: FakeGoogle.Service, extra: Record<string, string> = {}): Record<string, string> => ({
  GOOGLE_VERTEX_API_KEY: vertexKey,
  GOOGLE_VERTEX_BASE_URL: fake.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2",
  ...extra
})

const studioEnv = (fake: FakeGoogle.Service, extra: Record<string, string> = {}): Record<string, string> => ({
  GOOGLE_GEMINI_API_KEY: geminiKey,
  GOOGLE_GEMINI_BASE_URL: fake.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2",
  ...extra
})

/** The parts of the wire bodies these tests look at. */
interface GenerateContentBody {
  readonly contents: ReadonlyArray<{
    readonly parts: ReadonlyArray<{
      readonly text?: string
      readonly inlineData?: { readonly mimeType: string; readonly data: string }
    }>
  }>
  readonly generationConfig: {
    readonly seed?: number
    readonly imageConfig?: {
      readonly aspectRatio?: string
      readonly imageSize?: string
      readonly imageOutputOptions?: { readonly mimeType: string }
    }
  }
}

interface PredictBody {
  readonly instances: ReadonlyArray<{ readonly prompt: string }>
  readonly parameters: Readonly<Record<string, unknown>>
}

const bodyOf = <A>(request: FakeRequest.FakeRequest) => Effect.map(Effect.orDie(request.json), (json) => json as A)

const geminiBody = (request: FakeRequest.FakeRequest) => bodyOf<GenerateContentBody>(request)

describe("image-gen generate with google (Vertex AI, e2e)", () => {
  it.scopedLive("generate: Gemini -n 2 --size --seed, one call per image, files saved, JSON summary", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse at dawn",
          "-m",
          "google:nb2",
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
        { cwd, env: vertexEnv(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(run.stderr, [])
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 1344, height: 768 })
      }
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "google")
      assert.strictEqual(json.model, "gemini-3.1-flash-image")
      assert.isNumber(json.costUsd)
      assert.isAbove(json.costUsd, 0)
      assert.strictEqual(json.images.length, 2)

      const requests = yield* fake.server.requestsMatching(FakeGoogle.generateContentRequests)
      assert.strictEqual(requests.length, 2, "Gemini makes one image a call")
      for (const request of requests) {
        assert.strictEqual(request.path, "/v1/publishers/google/models/gemini-3.1-flash-image:generateContent")
        assert.strictEqual(request.headers["x-goog-api-key"] ?? request.query["key"], vertexKey)
      }
      const bodies = yield* Effect.forEach(requests, geminiBody)
      assert.deepStrictEqual(bodies.map((b) => b.generationConfig.seed).sort(), [7, 8])
      for (const body of bodies) {
        // 1344x768 is the 16:9 ratio at 1K; PNG (from -o out.png) is asked for explicitly on Vertex.
        assert.strictEqual(body.generationConfig.imageConfig?.aspectRatio, "16:9")
        assert.strictEqual(body.generationConfig.imageConfig?.imageSize, "1K")
        assert.deepStrictEqual(body.generationConfig.imageConfig?.imageOutputOptions, { mimeType: "image/png" })
        assert.strictEqual(body.contents[0]!.parts[0]!.text, "a lighthouse at dawn")
      }
    }))

  it.scopedLive("Imagen: google:imagen4 goes to :predict with sampleCount, seed and addWatermark: false", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a red fox",
          "-m",
          "google:imagen4",
          "--aspect-ratio",
          "16:9",
          "-n",
          "2",
          "--seed",
          "7",
          "-o",
          "fox.png",
          "--json"
        ],
        { cwd, env: vertexEnv(fake, { GOOGLE_CLOUD_PROJECT: "my-project", GOOGLE_CLOUD_LOCATION: "us-east4" }) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["fox-1.png", "fox-2.png"])
      for (const name of ["fox-1.png", "fox-2.png"]) {
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 1408, height: 768 })
      }
      assert.deepStrictEqual(run.stderr, [
        "note: google:imagen-4.0-generate-001 is deprecated (retirement 2026-08-17); use google:nb2 instead"
      ])
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "google")
      assert.strictEqual(json.model, "imagen-4.0-generate-001")
      assert.closeTo(json.costUsd, 0.08, 1e-9)

      assert.strictEqual(yield* fake.server.count(FakeGoogle.generateContentRequests), 0)
      const [request, ...more] = yield* fake.server.requestsMatching(FakeGoogle.predictRequests)
      assert.strictEqual(more.length, 0, "up to 4 images a call")
      assert.strictEqual(
        request!.path,
        "/v1/projects/my-project/locations/us-east4/publishers/google/models/imagen-4.0-generate-001:predict"
      )
      const body = yield* bodyOf<PredictBody>(request!)
      assert.strictEqual(body.instances[0]!.prompt, "a red fox")
      assert.strictEqual(body.parameters.sampleCount, 2)
      assert.strictEqual(body.parameters.aspectRatio, "16:9")
      assert.strictEqual(body.parameters.seed, 7)
      assert.strictEqual(body.parameters.addWatermark, false)
    }))

  it.scopedLive("a blocked prompt exits 3 with one line, not retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.promptBlocked()])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "something unsafe", "-m", "google:nb2", "-o", "x.png"],
        { cwd, env: vertexEnv(fake) }
      )
      assertOneErrorLine(run, {
        code: 3,
        emptyStdout: true,
        match: /^image-gen: google:gemini-3\.1-flash-image: content blocked/,
        includes: ["PROHIBITED_CONTENT"]
      })
      assert.strictEqual(yield* fake.server.count(), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("Imagen filtering every image (raiFilteredReason) exits 3", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      yield* FakeGoogle.scriptPredict(fake, [FakeGoogle.replies.raiFiltered()])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a crowd", "-m", "google:imagen4", "-o", "x.png"],
        { cwd, env: vertexEnv(fake) }
      )
      assert.strictEqual(run.code, 3, run.stderr.join("\n"))
      const errors = run.stderr.filter((line) => !line.startsWith("note: "))
      assert.strictEqual(errors.length, 1)
      assert.match(errors[0]!, /^image-gen: google:imagen-4\.0-generate-001: content blocked/)
      assert.strictEqual(yield* fake.server.count(FakeGoogle.predictRequests), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a 429 with Retry-After: 1 is waited out and retried once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.rateLimited({ retryAfterSeconds: 1 })])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "google:nb2", "-o", "boat.png", "--json"],
        { cwd, env: vertexEnv(fake) }
      )
      assertRetriedAfterWait(run, yield* fake.server.count(FakeGoogle.generateContentRequests))
      assert.deepStrictEqual(yield* listDir(cwd), ["boat.png"])
    }))

  it.scopedLive("a wrong key exits 1 with one line naming GOOGLE_VERTEX_API_KEY, not the key", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "google:nb2", "-o", "x.png"],
        { cwd, env: vertexEnv(fake, { GOOGLE_VERTEX_API_KEY: "wrong-vertex-key" }) }
      )
      assertOneErrorLine(run, {
        code: 1,
        emptyStdout: true,
        match: /^image-gen: /,
        includes: ["GOOGLE_VERTEX_API_KEY"],
        excludes: ["wrong-vertex-key"]
      })
      assert.strictEqual(yield* fake.server.count(), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("what the model cannot do exits 2 before any request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      yield* writeFile(join(cwd, "in.png"), FakeGoogle.png(16, 16))
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "google:nb2", "--aspect-ratio", "2:1"], "2:1"],
        [["-m", "google:nb-pro", "--aspect-ratio", "1:4"], "1:4"],
        [["-m", "google:nb2", "--negative-prompt", "fog"], "negative prompt"],
        [["-m", "google:nb2", "--image", "in.png", "--mask", "in.png"], "mask"],
        [["-m", "google:imagen4", "--aspect-ratio", "21:9"], "21:9"],
        [["-m", "google:imagen4", "--resolution", "4K"], "4K"],
        [["-m", "google:imagen4", "--image", "in.png"], "input images"]
      ]
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "x",
        cwd,
        env: vertexEnv(fake),
        requestCount: fake.server.count(),
        emptyStdout: true,
        files: ["in.png"]
      })
    }))
})

describe("image-gen generate with google-studio (AI Studio, e2e)", () => {
  it.scopedLive("generate: --aspect-ratio --resolution -n 2 --seed on the Gemini API", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a watercolor lighthouse",
          "-m",
          "google-studio:nb-pro",
          "--aspect-ratio",
          "3:2",
          "--resolution",
          "2K",
          "-n",
          "2",
          "--seed",
          "7",
          "-o",
          "out.png",
          "--json"
        ],
        { cwd, env: studioEnv(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      const expected = FakeGoogle.geminiDimensions("3:2", "2K")
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), expected)
      }
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "google-studio")
      assert.strictEqual(json.model, "gemini-3-pro-image")
      assert.isAbove(json.costUsd, 0)
      assert.strictEqual(json.images.length, 2)

      const requests = yield* fake.server.requests
      assert.strictEqual(requests.length, 2)
      for (const request of requests) {
        assert.strictEqual(request.path, "/v1beta/models/gemini-3-pro-image:generateContent")
        assert.strictEqual(request.headers["x-goog-api-key"] ?? request.query["key"], geminiKey)
      }
      const bodies = yield* Effect.forEach(requests, geminiBody)
      assert.deepStrictEqual(bodies.map((b) => b.generationConfig.seed).sort(), [7, 8])
      for (const body of bodies) {
        assert.deepStrictEqual(body.generationConfig.imageConfig, { aspectRatio: "3:2", imageSize: "2K" })
      }
    }))

  it.scopedLive("edit: --image arrives as an inlineData part after the prompt", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      const input = FakeGoogle.png(48, 32)
      yield* writeFile(join(cwd, "in.png"), input)
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "make it night",
          "-m",
          "google-studio:nb2",
          "--image",
          "in.png",
          "-o",
          "night.png",
          "--json"
        ],
        { cwd, env: studioEnv(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["in.png", "night.png"])
      assert.isDefined(pngSize(yield* readFile(join(cwd, "night.png"))))
      assert.strictEqual(JSON.parse(run.stdout[0]!).provider, "google-studio")
      const [request] = yield* fake.server.requests
      const parts = (yield* geminiBody(request!)).contents[0]!.parts
      assert.strictEqual(parts.length, 2)
      assert.strictEqual(parts[0]!.text, "make it night")
      assert.deepStrictEqual(parts[1]!.inlineData, { mimeType: "image/png", data: Encoding.encodeBase64(input) })
    }))

  it.scopedLive("an IMAGE_SAFETY finish exits 3", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.imageBlocked()])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a portrait", "-m", "google-studio:nb2", "-o", "x.png"],
        { cwd, env: studioEnv(fake) }
      )
      assertOneErrorLine(run, {
        code: 3,
        match: /^image-gen: google-studio:gemini-3\.1-flash-image: content blocked/,
        includes: ["IMAGE_SAFETY"]
      })
      assert.strictEqual(yield* fake.server.count(), 1)
    }))

  it.scopedLive("a 429 with Retry-After: 1 is retried once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.rateLimited({ retryAfterSeconds: 1 })])
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "google-studio:nb2", "-o", "boat.png", "--json"],
        { cwd, env: studioEnv(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* fake.server.count(FakeGoogle.generateContentRequests), 2)
      assert.strictEqual(JSON.parse(run.stdout[0]!).attempts, 2)
    }))

  it.scopedLive("a wrong key exits 1 with one line naming GOOGLE_GEMINI_API_KEY", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a boat", "-m", "google-studio:nb2", "-o", "x.png"],
        { cwd, env: studioEnv(fake, { GOOGLE_GEMINI_API_KEY: "wrong-gemini-key" }) }
      )
      assertOneErrorLine(run, { code: 1, includes: ["GOOGLE_GEMINI_API_KEY"], excludes: ["wrong-gemini-key"] })
      assert.strictEqual(yield* fake.server.count(), 1)
    }))

  it.scopedLive("what AI Studio cannot do exits 2 before any request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const cwd = yield* tempDir
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "google-studio:nb2", "--format", "jpeg"], "jpeg"],
        [["-m", "google-studio:nb2", "--aspect-ratio", "2:1"], "2:1"],
        [["-m", "google-studio:nano-banana", "--resolution", "2K"], "2K"]
      ]
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "x",
        cwd,
        env: studioEnv(fake),
        requestCount: fake.server.count()
      })
    }))
})

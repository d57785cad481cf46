import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as GoogleCredentials from "../src/GoogleCredentials.js"
import * as GoogleProvider from "../src/GoogleProvider.js"
import * as FakeGoogle from "../src/testing.js"
import { Live, pngSize, router, studioLayer, vertexAdcLayer, vertexKeyLayer } from "./utils.js"

// Test-only access into decoded JSON bodies.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const rec = (u: unknown) => u as Record<string, any>

const lastBody = (fake: FakeGoogle.Service) =>
  Effect.gen(function*() {
    const requests = yield* fake.server.requestsMatching((r) => r.path.includes(":"))
    const last = requests[requests.length - 1]!
    return { request: last, body: rec(yield* last.json) }
  })

describe("google-studio (AI Studio)", () => {
  it.scopedLive("generates with nb2 and maps aspect ratio, resolution and seed", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      const result = yield* gen.generate({
        prompt: "a watercolor lighthouse",
        model: "google-studio:nb2",
        aspectRatio: "16:9",
        resolution: "2K",
        seed: 42
      })
      const { body, request } = yield* lastBody(fake)
      assert.strictEqual(request.path, "/v1beta/models/gemini-3.1-flash-image:generateContent")
      assert.strictEqual(request.headers["x-goog-api-key"], "test-gemini-key")
      assert.deepStrictEqual(body.contents, [{ role: "user", parts: [{ text: "a watercolor lighthouse" }] }])
      assert.deepStrictEqual(body.generationConfig, {
        responseModalities: ["TEXT", "IMAGE"],
        seed: 42,
        imageConfig: { aspectRatio: "16:9", imageSize: "2K" }
      })
      assert.strictEqual(result.provider, "google-studio")
      assert.strictEqual(result.images.length, 1)
      const image = result.images[0]!
      assert.strictEqual(image.mediaType, "image/png")
      assert.deepStrictEqual(pngSize(image.bytes), { width: 2688, height: 1536 })
      assert.strictEqual(image.width, 2688)
      assert.strictEqual(image.height, 1536)
      assert.isTrue(result.requestId.startsWith("fake-"))
      // 1680 image tokens at $60/M + 5 text tokens at $3/M + prompt tokens at $0.50/M
      assert.isDefined(result.costUsd)
      assert.approximately(result.costUsd!, 0.1008 + 0.000015 + 6 * 0.5e-6, 1e-6)
      assert.strictEqual(result.usage?.inputTokens, 6)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("edits with input images as inlineData parts (bytes and data URL)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      const input = FakeGoogle.png(8, 8)
      const dataUrl = `data:image/png;base64,${Buffer.from(input).toString("base64")}`
      yield* gen.generate({
        prompt: "make it night",
        model: "google-studio:nb-pro",
        images: [
          new ImageRequest.ImageBytes({ data: input, mediaType: "image/png" }),
          new ImageRequest.ImageUrl({ url: dataUrl })
        ]
      })
      const { body, request } = yield* lastBody(fake)
      assert.strictEqual(request.path, "/v1beta/models/gemini-3-pro-image:generateContent")
      const parts = body.contents[0].parts
      assert.strictEqual(parts.length, 3)
      assert.deepStrictEqual(parts[0], { text: "make it night" })
      assert.deepStrictEqual(parts[1], {
        inlineData: { mimeType: "image/png", data: Buffer.from(input).toString("base64") }
      })
      assert.deepStrictEqual(parts[2], parts[1])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("converts a WxH size to ratio and image size", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* gen.generate({ prompt: "x", model: "google-studio:nb2", size: "1344x768" })
      const { body } = yield* lastBody(fake)
      assert.deepStrictEqual(body.generationConfig.imageConfig, { aspectRatio: "16:9", imageSize: "1K" })
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2", size: "1000x300" }))
      assert.strictEqual(error._tag, "UnsupportedCapability")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("refuses output format, negative prompt and 720p before any call", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      for (
        const req of [
          { outputFormat: "jpeg" as const },
          { negativePrompt: "blur" },
          { resolution: "720p" as const },
          { aspectRatio: "7:3" }
        ]
      ) {
        const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2", ...req }))
        assert.strictEqual(error._tag, "UnsupportedCapability")
      }
      const retired = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "google-studio:gemini-3-pro-image-preview" })
      )
      assert.strictEqual(retired._tag, "ModelRetired")
      assert.strictEqual(yield* fake.server.count(), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("skips interim thought images", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make({ thoughtImages: true })
      const gen = yield* router(studioLayer(fake))
      const result = yield* gen.generate({ prompt: "x", model: "google-studio:nb-pro", aspectRatio: "1:1" })
      assert.strictEqual(result.images.length, 1)
      assert.deepStrictEqual(pngSize(result.images[0]!.bytes), { width: 1024, height: 1024 })
    }).pipe(Effect.provide(Live)))

  it.scopedLive("n > 1 is split into one call per image", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      const result = yield* gen.generate({ prompt: "x", model: "google-studio:nano-banana", n: 3, seed: 7 })
      assert.strictEqual(result.images.length, 3)
      const seeds = (yield* fake.server.requests).map((r) => r.json)
      assert.strictEqual(seeds.length, 3)
    }).pipe(Effect.provide(Live)))
})

describe("errors", () => {
  it.scopedLive("an invalid key is AuthenticationError naming the env var, not retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake, "wrong"))
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag === "AuthenticationError") {
        assert.strictEqual(error.keyName, "GOOGLE_GEMINI_API_KEY")
        assert.include(error.message, "GOOGLE_GEMINI_API_KEY")
        assert.notInclude(error.message, "wrong")
      }
      assert.strictEqual(yield* fake.server.count(), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("403 and 401 are AuthenticationError", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [
        FakeGoogle.replies.permissionDenied(),
        FakeGoogle.replies.unauthenticated()
      ])
      const a = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      const b = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(a._tag, "AuthenticationError")
      assert.strictEqual(b._tag, "AuthenticationError")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("429 with Retry-After: 1 is waited for, then succeeds (2 calls)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.rateLimited({ retryAfterSeconds: 1 })])
      const start = Date.now()
      const result = yield* gen.generate({ prompt: "x", model: "google-studio:nb2" })
      const elapsed = Date.now() - start
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(yield* fake.server.count(FakeGoogle.generateContentRequests), 2)
      assert.isAtLeast(elapsed, 950)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("429 with RetryInfo.retryDelay (no header) is honoured too", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.rateLimited({ retryDelaySeconds: 1 })])
      const start = Date.now()
      yield* gen.generate({ prompt: "x", model: "google-studio:nb2" })
      assert.isAtLeast(Date.now() - start, 950)
      assert.strictEqual(yield* fake.server.count(FakeGoogle.generateContentRequests), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a daily quota is RateLimited and not hammered", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.rateLimited({ daily: true })])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(yield* fake.server.count(), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("503 and 500 are ProviderUnavailable and retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.unavailable(), FakeGoogle.replies.internal()])
      const result = yield* gen.generate({ prompt: "x", model: "google-studio:nb2" })
      assert.strictEqual(result.attempts, 3)
      yield* FakeGoogle.scriptGenerateContent(fake, [
        FakeGoogle.replies.unavailable(),
        FakeGoogle.replies.unavailable(),
        FakeGoogle.replies.unavailable()
      ])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(error._tag, "ProviderUnavailable")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("400 INVALID_ARGUMENT and unknown model 404 are InvalidRequest", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.failedPrecondition()])
      const a = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(a._tag, "InvalidRequest")
      const b = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:gemini-9-image" }))
      assert.strictEqual(b._tag, "InvalidRequest")
      if (b._tag === "InvalidRequest") assert.strictEqual(b.status, 404)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("404 for a deprecated model is ModelRetired with the replacement", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make({ retiredModels: ["gemini-2.5-flash-image"] })
      const gen = yield* router(studioLayer(fake))
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nano-banana" }))
      assert.strictEqual(error._tag, "ModelRetired")
      if (error._tag === "ModelRetired") assert.strictEqual(error.replacement, "google-studio:nb2")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("safety outcomes are ContentBlocked and never retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [
        FakeGoogle.replies.promptBlocked("PROHIBITED_CONTENT"),
        FakeGoogle.replies.imageBlocked("IMAGE_SAFETY")
      ])
      const a = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      const b = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(a._tag, "ContentBlocked")
      assert.strictEqual(b._tag, "ContentBlocked")
      if (a._tag === "ContentBlocked") assert.include(a.reason, "PROHIBITED_CONTENT")
      if (b._tag === "ContentBlocked") assert.include(b.reason, "IMAGE_SAFETY")
      assert.strictEqual(yield* fake.server.count(), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a text-only answer is JobFailed carrying the model's words", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.noImage("I can't draw that.", "NO_IMAGE")])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(error._tag, "JobFailed")
      assert.include(error.message, "I can't draw that.")
      assert.strictEqual(yield* fake.server.count(), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("malformed JSON is MalformedResponse; a reset is retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(studioLayer(fake))
      yield* FakeGoogle.scriptGenerateContent(fake, [Fault.malformedJson()])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google-studio:nb2" }))
      assert.strictEqual(error._tag, "MalformedResponse")
      yield* FakeGoogle.scriptGenerateContent(fake, [Fault.resetBeforeResponse])
      const result = yield* gen.generate({ prompt: "x", model: "google-studio:nb2" })
      assert.strictEqual(result.attempts, 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a hung call times out as RequestTimeout", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const layer = GoogleProvider.layer({
        backend: { _tag: "GeminiApi", apiKey: Redacted.make("test-gemini-key"), baseUrl: fake.url },
        timeout: "200 millis"
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      const gen = yield* router(layer)
      yield* FakeGoogle.scriptGenerateContent(fake, [Fault.hang, Fault.hang, Fault.hang])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google:nb2" }))
      assert.strictEqual(error._tag, "RequestTimeout")
    }).pipe(Effect.provide(Live)))
})

describe("google (Vertex AI)", () => {
  it.scopedLive("ADC through google-auth-library: token from the fake token endpoint, Bearer on the call", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(vertexAdcLayer(fake))
      const result = yield* gen.generate({
        prompt: "a fox",
        model: "google:nano-banana",
        aspectRatio: "4:5",
        outputFormat: "jpeg"
      })
      const tokens = yield* fake.issuedTokens
      assert.strictEqual(tokens.length, 1)
      const { body, request } = yield* lastBody(fake)
      assert.strictEqual(
        request.path,
        "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash-image:generateContent"
      )
      assert.strictEqual(request.headers["authorization"], `Bearer ${tokens[0]}`)
      assert.isUndefined(request.headers["x-goog-api-key"])
      assert.deepStrictEqual(body.generationConfig.imageConfig, {
        aspectRatio: "4:5",
        imageOutputOptions: { mimeType: "image/jpeg" }
      })
      assert.strictEqual(result.images[0]!.mediaType, "image/jpeg")
      assert.strictEqual(result.images[0]!.width, 896)
      assert.strictEqual(result.images[0]!.height, 1152)
      // the library caches the token
      yield* gen.generate({ prompt: "a fox", model: "google:nano-banana" })
      assert.strictEqual((yield* fake.issuedTokens).length, 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an injected token source; Gemini 3 goes to the global location", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const layer = GoogleProvider.layer({
        backend: {
          _tag: "VertexAdc",
          project: "p1",
          location: "europe-west4",
          baseUrl: fake.url,
          accessToken: GoogleCredentials.fixed("test-access-token")
        }
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      const gen = yield* router(layer)
      yield* gen.generate({ prompt: "x", model: "google:nb-pro", resolution: "4K" })
      const { request } = yield* lastBody(fake)
      assert.strictEqual(
        request.path,
        "/v1/projects/p1/locations/global/publishers/google/models/gemini-3-pro-image:generateContent"
      )
      assert.strictEqual(request.headers["authorization"], "Bearer test-access-token")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an expired token is AuthenticationError naming ADC", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const layer = GoogleProvider.layer({
        backend: {
          _tag: "VertexAdc",
          project: "p1",
          baseUrl: fake.url,
          accessToken: GoogleCredentials.fixed("expired")
        }
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      const gen = yield* router(layer)
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google:nano-banana" }))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag === "AuthenticationError") assert.include(error.keyName!, "Application Default Credentials")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("ADC failure to get a token is AuthenticationError", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const layer = GoogleProvider.layer({
        backend: {
          _tag: "VertexAdc",
          project: "p1",
          baseUrl: fake.url,
          googleAuthOptions: {
            ...fake.googleAuthOptions,
            credentials: { ...fake.googleAuthOptions.credentials, refresh_token: "" }
          }
        }
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      const gen = yield* router(layer)
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google:nano-banana" }))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.strictEqual(yield* fake.server.count(FakeGoogle.generateContentRequests), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("Vertex API key: project path with a project, express path without", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const withProject = yield* router(vertexKeyLayer(fake, "proj"))
      yield* withProject.generate({ prompt: "x", model: "google:nano-banana" })
      const a = yield* lastBody(fake)
      assert.strictEqual(
        a.request.path,
        "/v1/projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-flash-image:generateContent"
      )
      assert.strictEqual(a.request.headers["x-goog-api-key"], "test-vertex-key")
      const express = yield* router(vertexKeyLayer(fake))
      yield* express.generate({ prompt: "x", model: "google:nb2" })
      const b = yield* lastBody(fake)
      assert.strictEqual(b.request.path, "/v1/publishers/google/models/gemini-3.1-flash-image:generateContent")
      const bad = yield* router(vertexKeyLayer(fake, undefined, "nope"))
      const error = yield* Effect.flip(bad.generate({ prompt: "x", model: "google:nb2" }))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag === "AuthenticationError") assert.strictEqual(error.keyName, "GOOGLE_VERTEX_API_KEY")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("Imagen 4 through :predict: sampleCount, ratio, size, seed, format, cost", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(vertexAdcLayer(fake))
      const result = yield* gen.generate({
        prompt: "a teapot",
        model: "google:imagen4",
        n: 3,
        aspectRatio: "4:3",
        resolution: "2K",
        seed: 1234,
        outputFormat: "png",
        providerOptions: { personGeneration: "dont_allow", labels: { team: "a" } }
      })
      const { body, request } = yield* lastBody(fake)
      assert.strictEqual(
        request.path,
        "/v1/projects/my-project/locations/us-central1/publishers/google/models/imagen-4.0-generate-001:predict"
      )
      assert.deepStrictEqual(body, {
        instances: [{ prompt: "a teapot" }],
        parameters: {
          sampleCount: 3,
          aspectRatio: "4:3",
          sampleImageSize: "2K",
          seed: 1234,
          addWatermark: false,
          outputOptions: { mimeType: "image/png" },
          includeRaiReason: true,
          personGeneration: "dont_allow"
        },
        labels: { team: "a" }
      })
      assert.strictEqual(result.images.length, 3)
      assert.deepStrictEqual(pngSize(result.images[0]!.bytes), { width: 2560, height: 1792 })
      assert.approximately(result.costUsd!, 0.12, 1e-9)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("Imagen n=6 is split into 4 + 2", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(vertexAdcLayer(fake))
      const result = yield* gen.generate({ prompt: "x", model: "google:imagen4-fast", n: 6 })
      assert.strictEqual(result.images.length, 6)
      const counts = yield* Effect.forEach(
        yield* fake.server.requestsMatching(FakeGoogle.predictRequests),
        (r) => Effect.map(r.json, (b) => rec(b).parameters.sampleCount)
      )
      assert.deepStrictEqual([...counts].sort(), [2, 4])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("Imagen safety: raiFilteredReason and RAI prompt refusal are ContentBlocked", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const gen = yield* router(vertexAdcLayer(fake))
      yield* FakeGoogle.scriptPredict(fake, [FakeGoogle.replies.raiFiltered(), FakeGoogle.replies.raiPromptBlocked()])
      const a = yield* Effect.flip(gen.generate({ prompt: "x", model: "google:imagen4" }))
      const b = yield* Effect.flip(gen.generate({ prompt: "x", model: "google:imagen4" }))
      assert.strictEqual(a._tag, "ContentBlocked")
      assert.strictEqual(b._tag, "ContentBlocked")
      if (a._tag === "ContentBlocked") assert.include(a.reason, "Support codes")
      assert.strictEqual(yield* fake.server.count(FakeGoogle.predictRequests), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("Imagen shut down (404) is ModelRetired; editing and negative prompt refused pre-flight", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make({ retiredModels: ["imagen-4.0-ultra-generate-001"] })
      const gen = yield* router(vertexAdcLayer(fake))
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "google:imagen4-ultra" }))
      assert.strictEqual(error._tag, "ModelRetired")
      const before = yield* fake.server.count()
      const edit = yield* Effect.flip(gen.generate({
        prompt: "x",
        model: "google:imagen4",
        images: [new ImageRequest.ImageBytes({ data: FakeGoogle.png(8, 8), mediaType: "image/png" })]
      }))
      assert.strictEqual(edit._tag, "UnsupportedCapability")
      const neg = yield* Effect.flip(gen.generate({ prompt: "x", model: "google:imagen4", negativePrompt: "blur" }))
      assert.strictEqual(neg._tag, "UnsupportedCapability")
      assert.strictEqual(yield* fake.server.count(), before)
    }).pipe(Effect.provide(Live)))
})

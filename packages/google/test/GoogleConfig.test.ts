import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as GoogleClient from "../src/GoogleClient.js"
import * as GoogleConfig from "../src/GoogleConfig.js"
import * as GoogleCredentials from "../src/GoogleCredentials.js"
import * as GoogleProvider from "../src/GoogleProvider.js"
import * as GoogleStudioProvider from "../src/GoogleStudioProvider.js"
import * as FakeGoogle from "../src/testing.js"
import { Live, router } from "./utils.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const resolve = (config: typeof GoogleConfig.google, env: Record<string, string>) =>
  Effect.either(config).pipe(withEnv(env))

const summary = (backend: GoogleClient.Backend) => ({
  _tag: backend._tag,
  key: "apiKey" in backend ? Redacted.value(backend.apiKey) : undefined,
  keyName: backend.keyName,
  project: "project" in backend ? backend.project : undefined,
  location: "location" in backend ? backend.location : undefined,
  baseUrl: backend.baseUrl
})

describe("GoogleConfig precedence", () => {
  const cases: ReadonlyArray<[string, Record<string, string>, Partial<ReturnType<typeof summary>> | "missing"]> = [
    ["Vertex key wins over everything", {
      GOOGLE_VERTEX_API_KEY: "vk",
      GOOGLE_API_KEY: "legacy",
      GOOGLE_GENAI_USE_VERTEXAI: "True",
      GOOGLE_CLOUD_PROJECT: "p",
      GOOGLE_CLOUD_LOCATION: "europe-west4",
      GOOGLE_VERTEX_BASE_URL: "http://127.0.0.1:1"
    }, {
      _tag: "VertexApiKey",
      key: "vk",
      keyName: "GOOGLE_VERTEX_API_KEY",
      project: "p",
      location: "europe-west4",
      baseUrl: "http://127.0.0.1:1"
    }],
    ["legacy key + USE_VERTEXAI=True is Vertex with that key", {
      GOOGLE_API_KEY: "legacy",
      GOOGLE_GENAI_USE_VERTEXAI: "True",
      GOOGLE_CLOUD_PROJECT: "p"
    }, { _tag: "VertexApiKey", key: "legacy", project: "p" }],
    ["project alone is ADC", { GOOGLE_CLOUD_PROJECT: "p" }, { _tag: "VertexAdc", project: "p", location: undefined }],
    ["project beats a legacy key without the Vertex flag", { GOOGLE_CLOUD_PROJECT: "p", GOOGLE_API_KEY: "k" }, {
      _tag: "VertexAdc"
    }],
    ["USE_VERTEXAI=false keeps the legacy key on AI Studio", {
      GOOGLE_CLOUD_PROJECT: "p",
      GOOGLE_API_KEY: "k",
      GOOGLE_GENAI_USE_VERTEXAI: "false"
    }, { _tag: "GeminiApi", key: "k" }],
    ["legacy key alone is AI Studio", { GOOGLE_API_KEY: "k", GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:2" }, {
      _tag: "GeminiApi",
      key: "k",
      keyName: "GOOGLE_API_KEY",
      baseUrl: "http://127.0.0.1:2"
    }],
    ["empty values count as unset", { GOOGLE_VERTEX_API_KEY: " ", GOOGLE_CLOUD_PROJECT: "" }, "missing"],
    ["nothing set", {}, "missing"]
  ]
  for (const [name, env, expected] of cases) {
    it.effect(`google: ${name}`, () =>
      Effect.gen(function*() {
        const result = yield* resolve(GoogleConfig.google, env)
        if (expected === "missing") {
          assert.isTrue(Either.isLeft(result))
          return
        }
        assert.isTrue(Either.isRight(result))
        const got = summary(Either.getOrThrow(result))
        for (const [k, v] of Object.entries(expected)) assert.deepStrictEqual(got[k as keyof typeof got], v, k)
      }))
  }

  it.effect("google-studio: GOOGLE_GEMINI_API_KEY, then GOOGLE_API_KEY unless flagged for Vertex", () =>
    Effect.gen(function*() {
      const a = Either.getOrThrow(
        yield* resolve(GoogleConfig.studio, { GOOGLE_GEMINI_API_KEY: "g", GOOGLE_API_KEY: "k" })
      )
      assert.strictEqual(summary(a).key, "g")
      assert.strictEqual(summary(a).keyName, "GOOGLE_GEMINI_API_KEY")
      const b = Either.getOrThrow(yield* resolve(GoogleConfig.studio, { GOOGLE_API_KEY: "k" }))
      assert.strictEqual(summary(b).key, "k")
      const c = yield* resolve(GoogleConfig.studio, { GOOGLE_API_KEY: "k", GOOGLE_GENAI_USE_VERTEXAI: "1" })
      assert.isTrue(Either.isLeft(c))
      const d = yield* resolve(GoogleConfig.studio, { GOOGLE_VERTEX_API_KEY: "v" })
      assert.isTrue(Either.isLeft(d))
    }))
})

describe("layerConfig", () => {
  it.scopedLive("google: project + location from env, injected token, base URL from GOOGLE_VERTEX_BASE_URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const layer = GoogleProvider.layerConfig({ accessToken: GoogleCredentials.fixed("test-access-token") }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const gen = yield* router(layer).pipe(
        withEnv({
          GOOGLE_CLOUD_PROJECT: "env-project",
          GOOGLE_CLOUD_LOCATION: "asia-northeast1",
          GOOGLE_VERTEX_BASE_URL: fake.url
        })
      )
      yield* gen.generate({ prompt: "x", model: "google:imagen4" })
      const [request] = yield* fake.server.requests
      assert.strictEqual(
        request!.path,
        "/v1/projects/env-project/locations/asia-northeast1/publishers/google/models/imagen-4.0-generate-001:predict"
      )
    }).pipe(Effect.provide(Live)))

  it.scopedLive("google-studio: key and base URL from env", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const layer = GoogleStudioProvider.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))
      const gen = yield* router(layer).pipe(
        withEnv({ GOOGLE_GEMINI_API_KEY: "test-gemini-key", GOOGLE_GEMINI_BASE_URL: fake.url })
      )
      const result = yield* gen.generate({ prompt: "x", model: "nb2" })
      assert.strictEqual(result.provider, "google-studio")
    }).pipe(Effect.provide(Live)))

  it.effect("missing config is a ConfigError naming the variables", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        router(GoogleProvider.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
          Effect.scoped,
          withEnv({})
        )
      )
      assert.include(String(error), "GOOGLE_VERTEX_API_KEY")
      assert.include(String(error), "GOOGLE_CLOUD_PROJECT")
    }).pipe(Effect.provide(Live)))
})

describe("vertexHost", () => {
  it("substitutes the location template", async () => {
    const { vertexHost } = await import("../src/GoogleClient.js")
    assert.strictEqual(
      vertexHost("https://{location}-aiplatform.googleapis.com", "us-central1"),
      "https://us-central1-aiplatform.googleapis.com"
    )
    assert.strictEqual(
      vertexHost("https://{location}-aiplatform.googleapis.com", "global"),
      "https://aiplatform.googleapis.com"
    )
    assert.strictEqual(
      vertexHost("https://{location}-aiplatform.googleapis.com", "eu"),
      "https://aiplatform.eu.rep.googleapis.com"
    )
    assert.strictEqual(vertexHost("http://127.0.0.1:9/", "us-central1"), "http://127.0.0.1:9")
  })
})

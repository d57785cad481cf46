/**
 * Contract tests: the official `@google/genai` SDK (2.32, the newest line that supports Node 20) against
 * the fake, to prove the fake speaks the real wire protocol.
 */
import { assert, describe, it } from "@effect/vitest"
import { ApiError, GoogleGenAI } from "@google/genai"
import * as Effect from "effect/Effect"
import * as FakeGoogle from "../src/testing.js"

// Test-only access into decoded JSON bodies.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const rec = (u: unknown) => u as Record<string, any>

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const attempt = <A>(f: () => Promise<A>) => Effect.flip(Effect.tryPromise({ try: f, catch: (e) => e }))

describe("@google/genai against FakeGoogle", () => {
  it.scopedLive("AI Studio: generateContent returns an inline image, request as the SDK sends it", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const ai = new GoogleGenAI({ apiKey: "test-gemini-key", httpOptions: { baseUrl: fake.url } })
      const response = yield* promise(() =>
        ai.models.generateContent({
          model: "gemini-3.1-flash-image",
          contents: "a watercolor lighthouse",
          config: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "16:9", imageSize: "2K" } }
        })
      )
      const parts = response.candidates?.[0]?.content?.parts ?? []
      const image = parts.find((p) => p.inlineData !== undefined)?.inlineData
      assert.strictEqual(image?.mimeType, "image/png")
      const bytes = Buffer.from(image!.data!, "base64")
      assert.deepStrictEqual({ w: bytes.readUInt32BE(16), h: bytes.readUInt32BE(20) }, { w: 2688, h: 1536 })
      assert.strictEqual(response.candidates?.[0]?.finishReason, "STOP")
      assert.isAbove(response.usageMetadata?.candidatesTokenCount ?? 0, 1000)
      assert.isString(response.responseId)
      const [request] = yield* fake.server.requests
      assert.strictEqual(request!.path, "/v1beta/models/gemini-3.1-flash-image:generateContent")
      assert.strictEqual(request!.headers["x-goog-api-key"], "test-gemini-key")
      const body = rec(yield* request!.json)
      assert.deepStrictEqual(body.generationConfig.imageConfig, { aspectRatio: "16:9", imageSize: "2K" })
    }))

  it.scopedLive("AI Studio: streaming (SSE) yields the image", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const ai = new GoogleGenAI({ apiKey: "test-gemini-key", httpOptions: { baseUrl: fake.url } })
      const chunks = yield* promise(async () => {
        const out: Array<unknown> = []
        const stream = await ai.models.generateContentStream({
          model: "gemini-2.5-flash-image",
          contents: "a fox",
          config: { responseModalities: ["IMAGE"] }
        })
        for await (const chunk of stream) out.push(chunk)
        return out
      })
      assert.strictEqual(chunks.length, 1)
      assert.isDefined(rec(chunks[0]).candidates[0].content.parts[0].inlineData)
    }))

  it.scopedLive("AI Studio errors: invalid key (400), rate limit (429), safety block (200)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const bad = new GoogleGenAI({ apiKey: "nope", httpOptions: { baseUrl: fake.url } })
      const e1 = yield* attempt(() => bad.models.generateContent({ model: "gemini-3-pro-image", contents: "x" }))
      assert.instanceOf(e1, ApiError)
      assert.strictEqual((e1 as ApiError).status, 400)
      assert.include((e1 as ApiError).message, "API_KEY_INVALID")

      const ai = new GoogleGenAI({ apiKey: "test-gemini-key", httpOptions: { baseUrl: fake.url } })
      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.rateLimited({ retryDelaySeconds: 21 })])
      const e2 = yield* attempt(() => ai.models.generateContent({ model: "gemini-3-pro-image", contents: "x" }))
      assert.strictEqual((e2 as ApiError).status, 429)
      assert.include((e2 as ApiError).message, "RESOURCE_EXHAUSTED")

      const e3 = yield* attempt(() => ai.models.generateContent({ model: "gemini-3-pro-image-preview", contents: "x" }))
      assert.strictEqual((e3 as ApiError).status, 404)

      yield* FakeGoogle.scriptGenerateContent(fake, [FakeGoogle.replies.promptBlocked("PROHIBITED_CONTENT")])
      const blocked = yield* promise(() => ai.models.generateContent({ model: "gemini-3-pro-image", contents: "x" }))
      assert.strictEqual(blocked.promptFeedback?.blockReason, "PROHIBITED_CONTENT")
      assert.isUndefined(blocked.candidates)
    }))

  it.scopedLive("Vertex express mode (API key, no project) against the base URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const ai = new GoogleGenAI({ vertexai: true, apiKey: "test-vertex-key", httpOptions: { baseUrl: fake.url } })
      const response = yield* promise(() =>
        ai.models.generateContent({
          model: "gemini-2.5-flash-image",
          contents: "x",
          config: {
            responseModalities: ["IMAGE"],
            imageConfig: { aspectRatio: "3:4", imageOutputOptions: { mimeType: "image/jpeg" } }
          }
        })
      )
      const image = response.candidates?.[0]?.content?.parts?.[0]?.inlineData
      assert.strictEqual(image?.mimeType, "image/jpeg")
      const [request] = yield* fake.server.requests
      assert.strictEqual(request!.path, "/v1beta1/publishers/google/models/gemini-2.5-flash-image:generateContent")
      assert.strictEqual(request!.headers["x-goog-api-key"], "test-vertex-key")
    }))

  it.scopedLive("Vertex with project/location and ADC (google-auth-library token from the fake)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const ai = new GoogleGenAI({
        vertexai: true,
        project: "sdk-project",
        location: "global",
        googleAuthOptions: fake.googleAuthOptions,
        httpOptions: { baseUrl: fake.url }
      })
      const response = yield* promise(() =>
        ai.models.generateContent({
          model: "gemini-3-pro-image",
          contents: "x",
          config: { responseModalities: ["TEXT", "IMAGE"] }
        })
      )
      assert.isDefined(response.candidates?.[0]?.content?.parts?.find((p) => p.inlineData !== undefined))
      const tokens = yield* fake.issuedTokens
      assert.strictEqual(tokens.length, 1)
      const [request] = yield* fake.server.requestsMatching(FakeGoogle.generateContentRequests)
      assert.strictEqual(
        request!.path,
        "/v1beta1/projects/sdk-project/locations/global/publishers/google/models/gemini-3-pro-image:generateContent"
      )
      assert.strictEqual(request!.headers["authorization"], `Bearer ${tokens[0]}`)
    }))

  it.scopedLive("Vertex Imagen: generateImages through :predict", () =>
    Effect.gen(function*() {
      const fake = yield* FakeGoogle.make()
      const ai = new GoogleGenAI({
        vertexai: true,
        project: "p",
        location: "us-central1",
        googleAuthOptions: fake.googleAuthOptions,
        httpOptions: { baseUrl: fake.url }
      })
      const response = yield* promise(() =>
        ai.models.generateImages({
          model: "imagen-4.0-generate-001",
          prompt: "a teapot",
          config: {
            numberOfImages: 2,
            aspectRatio: "16:9",
            imageSize: "2K",
            seed: 5,
            addWatermark: false,
            outputMimeType: "image/png"
          }
        })
      )
      assert.strictEqual(response.generatedImages?.length, 2)
      const bytes = Buffer.from(response.generatedImages![0]!.image!.imageBytes!, "base64")
      assert.deepStrictEqual({ w: bytes.readUInt32BE(16), h: bytes.readUInt32BE(20) }, { w: 2816, h: 1536 })
      const [request] = yield* fake.server.requestsMatching(FakeGoogle.predictRequests)
      assert.strictEqual(
        request!.path,
        "/v1beta1/projects/p/locations/us-central1/publishers/google/models/imagen-4.0-generate-001:predict"
      )
      const body = rec(yield* request!.json)
      assert.strictEqual(body.parameters.sampleCount, 2)
      assert.strictEqual(body.parameters.sampleImageSize, "2K")

      yield* FakeGoogle.scriptPredict(fake, [FakeGoogle.replies.raiFiltered()])
      const filtered = yield* promise(() =>
        ai.models.generateImages({ model: "imagen-4.0-generate-001", prompt: "x", config: { includeRaiReason: true } })
      )
      assert.include(filtered.generatedImages?.[0]?.raiFilteredReason ?? "", "Support codes")
    }))
})

import { assert, describe, it } from "@effect/vitest"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import { ImageBytes, ImageUrl } from "@image-gen/core/ImageRequest"
import * as FakeRequest from "@image-gen/testing/FakeRequest"
import * as Fault from "@image-gen/testing/Fault"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as OpenAiClient from "../src/OpenAiClient.js"
import * as OpenAiCompatibleProvider from "../src/OpenAiCompatibleProvider.js"
import * as OpenAiProvider from "../src/OpenAiProvider.js"
import * as FakeOpenAi from "../src/testing.js"
import { Env, isPng, pngBytes, routerFor, setup } from "./utils.js"

const prompt = "a lighthouse on a cliff at dawn"

const bodyOf = (request: FakeRequest.FakeRequest) => Effect.map(request.json, (j) => j as Record<string, unknown>)

describe("OpenAiProvider", () => {
  it("ships a catalog with the shorthands and lifecycles", () => {
    const byId = new Map(OpenAiProvider.catalog.models.map((m) => [m.id, m]))
    assert.strictEqual(OpenAiProvider.catalog.defaultModel, "gpt-image-2")
    assert.deepStrictEqual(byId.get("gpt-image-1-mini")?.shorthands, ["gpt-image-mini", "gpt-image-1-mini"])
    assert.strictEqual(byId.get("gpt-image-1")?.lifecycle.status, "retired")
    assert.strictEqual(byId.get("dall-e-3")?.lifecycle.status, "retired")
    assert.strictEqual(byId.get("gpt-image-1.5")?.lifecycle.status, "deprecated")
  })

  it.scopedLive("maps every generation parameter onto the wire and reports usage and cost", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const result = yield* gen.generate({
        prompt,
        model: "openai:gpt-image-2",
        n: 2,
        size: "1536x1024",
        quality: "high",
        outputFormat: "webp",
        providerOptions: { background: "opaque", outputCompression: 80, moderation: "low", user: "user-1" }
      })
      const [request] = yield* server.requests
      assert.strictEqual(request!.path, "/v1/images/generations")
      assert.strictEqual(request!.headers["authorization"], "Bearer sk-test")
      assert.deepStrictEqual(yield* bodyOf(request!), {
        model: "gpt-image-2",
        prompt,
        n: 2,
        size: "1536x1024",
        quality: "high",
        output_format: "webp",
        background: "opaque",
        output_compression: 80,
        moderation: "low",
        user: "user-1"
      })
      assert.strictEqual(result.images.length, 2)
      assert.strictEqual(result.images[0]!.mediaType, "image/webp")
      assert.strictEqual(result.images[0]!.width, 1536)
      assert.isTrue(result.requestId.startsWith("req_"))
      assert.isAbove(result.usage?.outputTokens ?? 0, 0)
      assert.isDefined(result.usage?.units?.output_image_tokens)
      // catalog: high at 1024x1024 is $0.211, scaled by area (1.5) for 2 images
      assert.closeTo(result.costUsd!, 0.211 * 1.5 * 2, 1e-6)
    }).pipe(Effect.provide(Env)))

  it.scopedLive("computes cost from usage tokens when token prices are given", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup({}, { tokenPrices: OpenAiProvider.publishedTokenPrices })
      const result = yield* gen.generate({ prompt: "abcd", model: "gpt-image-2", quality: "low", size: "1024x1024" })
      // 1 text token at $5/1M + 272 image output tokens at $30/1M
      assert.closeTo(result.costUsd!, (1 * 5 + 272 * 30) / 1e6, 1e-9)
    }).pipe(Effect.provide(Env)))

  it.scopedLive("resolves shorthands and converts aspect ratio and resolution to sizes", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* gen.generate({ prompt, model: "gpt-image-mini", aspectRatio: "3:2" })
      yield* gen.generate({ prompt, model: "gpt-image-2", aspectRatio: "16:9", resolution: "2K" })
      yield* gen.generate({ prompt, model: "gpt-image-2", aspectRatio: "1:1", resolution: "4K" })
      const bodies = yield* Effect.forEach(yield* server.requests, bodyOf)
      assert.strictEqual(bodies[0]!.model, "gpt-image-1-mini")
      assert.strictEqual(bodies[0]!.size, "1536x1024")
      assert.strictEqual(bodies[1]!.size, "2048x1152")
      // 4K square is scaled into the 3840x2160 pixel budget
      assert.strictEqual(bodies[2]!.size, "2880x2880")
    }).pipe(Effect.provide(Env)))

  it.scopedLive("refuses what the API cannot do before any call", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const ratio = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-1.5", aspectRatio: "16:9" }))
      assert.strictEqual(ratio._tag, "UnsupportedCapability")
      const seed = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-2", seed: 7 }))
      assert.strictEqual(seed._tag, "UnsupportedCapability")
      const tooWide = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-2", size: "3840x960" }))
      assert.strictEqual(tooWide._tag, "UnsupportedCapability")
      const seedUnknown = yield* Effect.flip(gen.generate({ prompt, model: "openai:gpt-image-9", seed: 7 }))
      assert.strictEqual(seedUnknown._tag, "UnsupportedCapability")
      const badOption = yield* Effect.flip(
        gen.generate({ prompt, model: "gpt-image-2", providerOptions: { partial_images: 9 } })
      )
      assert.strictEqual(badOption._tag, "InvalidRequest")
      const retired = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image" }))
      assert.strictEqual(retired._tag, "ModelRetired")
      assert.include(retired.message, "gpt-image-2")
      const dalle = yield* Effect.flip(gen.generate({ prompt, model: "dall-e-3" }))
      assert.strictEqual(dalle._tag, "ModelRetired")
      assert.strictEqual(yield* server.count(), 0)
    }).pipe(Effect.provide(Env)))

  it.scopedLive("edits with several images and a mask as multipart", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const result = yield* gen.generate({
        prompt: "put the mug on a marble counter",
        model: "gpt-image-1.5",
        size: "1024x1024",
        images: [
          new ImageBytes({ data: pngBytes(), mediaType: "image/png", name: "mug.png" }),
          new ImageBytes({ data: pngBytes(4, 4), mediaType: "image/png" })
        ],
        mask: new ImageBytes({ data: pngBytes(), mediaType: "image/png" }),
        providerOptions: { input_fidelity: "high" }
      })
      assert.isTrue(isPng(result.images[0]!.bytes))
      const [request] = yield* server.requests
      assert.strictEqual(request!.path, "/v1/images/edits")
      const form = yield* FakeRequest.formData(request!)
      const images = form.getAll("image[]")
      assert.strictEqual(images.length, 2)
      assert.strictEqual((images[0] as File).name, "mug.png")
      assert.strictEqual((images[0] as File).type, "image/png")
      assert.instanceOf(form.get("mask"), Blob)
      assert.strictEqual(form.get("model"), "gpt-image-1.5")
      assert.strictEqual(form.get("n"), "1")
      assert.strictEqual(form.get("input_fidelity"), "high")
      assert.strictEqual(form.get("prompt"), "put the mug on a marble counter")
    }).pipe(Effect.provide(Env)))

  it.scopedLive("sends one image as `image`, and URL inputs through the JSON form", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* gen.generate({
        prompt,
        model: "gpt-image-2",
        images: [new ImageUrl({ url: `data:image/png;base64,${Buffer.from(pngBytes()).toString("base64")}` })]
      })
      yield* gen.generate({
        prompt,
        model: "gpt-image-2",
        images: [new ImageUrl({ url: "https://example.test/mug.png" })],
        mask: new ImageBytes({ data: pngBytes(), mediaType: "image/png" })
      })
      const [multipart, json] = yield* server.requests
      const form = yield* FakeRequest.formData(multipart!)
      assert.strictEqual(form.getAll("image").length, 1)
      assert.strictEqual(json!.headers["content-type"], "application/json")
      const body = yield* bodyOf(json!)
      assert.deepStrictEqual(body.images, [{ image_url: "https://example.test/mug.png" }])
      assert.isTrue(String((body.mask as { image_url: string }).image_url).startsWith("data:image/png;base64,"))
    }).pipe(Effect.provide(Env)))

  it.scopedLive("maps error responses to typed errors", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const blocked = yield* Effect.flip(gen.generate({ prompt: "something forbidden", model: "gpt-image-2" }))
      assert.strictEqual(blocked._tag, "ContentBlocked")
      assert.strictEqual(yield* server.count(), 1)

      const invalid = yield* Effect.flip(
        gen.generate({ prompt, model: "gpt-image-2", providerOptions: { background: "transparent" } })
      )
      assert.strictEqual(invalid._tag, "InvalidRequest")
      assert.strictEqual(invalid._tag === "InvalidRequest" ? invalid.field : "", "background")

      yield* server.script(FakeOpenAi.routesFilter, [FakeOpenAi.insufficientQuota])
      const quota = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-2" }))
      assert.strictEqual(quota._tag, "InvalidRequest")
      assert.strictEqual(yield* server.count(), 3)

      yield* server.script(FakeOpenAi.routesFilter, [Fault.status(503), Fault.status(503), Fault.status(503)])
      const unavailable = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-2" }))
      assert.strictEqual(unavailable._tag, "ProviderUnavailable")
      assert.strictEqual(yield* server.count(), 6)

      yield* server.script(FakeOpenAi.routesFilter, [Fault.status(500), Fault.resetBeforeResponse])
      const recovered = yield* gen.generate({ prompt, model: "gpt-image-2" })
      assert.strictEqual(recovered.attempts, 3)

      yield* server.script(FakeOpenAi.routesFilter, [
        Fault.malformedJson(),
        Fault.malformedJson(),
        Fault.malformedJson()
      ])
      const malformed = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-2" }))
      assert.strictEqual(malformed._tag, "MalformedResponse")
    }).pipe(Effect.provide(Env)))

  it.scopedLive("authentication errors name the env var; a missing key makes no call", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({ apiKey: "sk-other" })
      const wrong = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-2" }))
      assert.strictEqual(wrong._tag, "AuthenticationError")
      assert.include(wrong.message, "OPENAI_API_KEY")
      assert.notInclude(wrong.message, "sk-test")
      assert.strictEqual(yield* server.count(), 1)

      const fake = yield* FakeOpenAi.make()
      const keyless = yield* routerFor(yield* OpenAiProvider.make({ apiUrl: fake.url }))
      const missing = yield* Effect.flip(keyless.generate({ prompt }))
      assert.strictEqual(missing._tag, "AuthenticationError")
      assert.strictEqual(yield* fake.server.count(), 0)
    }).pipe(Effect.provide(Env)))

  it.scopedLive("a model the API has retired becomes ModelRetired with the catalog's replacement", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({ retired: ["gpt-image-1.5"] })
      const error = yield* Effect.flip(gen.generate({ prompt, model: "gpt-image-1.5" }))
      assert.strictEqual(error._tag, "ModelRetired")
      assert.strictEqual(error._tag === "ModelRetired" ? error.replacement : "", "openai:gpt-image-2")
      assert.strictEqual(yield* server.count(), 1)
      const unknown = yield* Effect.flip(gen.generate({ prompt, model: "openai:gpt-image-9" }))
      assert.strictEqual(unknown._tag, "InvalidRequest")
    }).pipe(Effect.provide(Env)))

  it.scopedLive("honours Retry-After on 429", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(FakeOpenAi.routesFilter, [FakeOpenAi.rateLimited(1)])
      const started = Date.now()
      const result = yield* gen.generate({ prompt, model: "gpt-image-2" })
      assert.isAtLeast(Date.now() - started, 950)
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(yield* server.count(), 2)
    }).pipe(Effect.provide(Env)))

  it.scopedLive("streams partial images as a Stream", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "sk-test", sendDone: true })
      const events = yield* OpenAiProvider.stream({
        prompt,
        model: "gpt-image-mini",
        size: "1024x1024",
        quality: "low",
        providerOptions: { partial_images: 3 }
      }).pipe(
        Stream.runCollect,
        Effect.provide(OpenAiClient.layer({ apiKey: Redacted.make("sk-test"), apiUrl: fake.url }))
      )
      const tags = Chunk.toReadonlyArray(events).map((e) => e._tag)
      assert.deepStrictEqual(tags, ["PartialImage", "PartialImage", "PartialImage", "Completed"])
      const last = Chunk.unsafeLast(events)
      assert.strictEqual(last._tag, "Completed")
      if (last._tag === "Completed") {
        assert.isTrue(isPng(last.image.bytes))
        assert.isAbove(last.usage?.outputTokens ?? 0, 0)
        assert.closeTo(last.costUsd!, 0.005, 1e-9)
      }
      const body = yield* bodyOf((yield* fake.server.requests)[0]!)
      assert.strictEqual(body.stream, true)
      assert.strictEqual(body.partial_images, 3)
    }).pipe(Effect.provide(Env)))

  it.scopedLive("streams edits, and fails typed on an error event mid-stream", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "sk-test" })
      const client = OpenAiClient.layer({ apiKey: Redacted.make("sk-test"), apiUrl: fake.url })
      const events = yield* OpenAiProvider.stream({
        prompt,
        images: [new ImageBytes({ data: pngBytes(), mediaType: "image/png" })]
      }).pipe(Stream.runCollect, Effect.provide(client))
      assert.deepStrictEqual(Chunk.toReadonlyArray(events).map((e) => e._tag), [
        "PartialImage",
        "PartialImage",
        "Completed"
      ])
      const form = yield* FakeRequest.formData((yield* fake.server.requests)[0]!)
      assert.strictEqual(form.get("stream"), "true")
      assert.strictEqual(form.get("partial_images"), "2")
      const error = yield* OpenAiProvider.stream({ prompt: "fail [stream-error]" }).pipe(
        Stream.runCollect,
        Effect.provide(client),
        Effect.flip
      )
      assert.strictEqual(error._tag, "ProviderUnavailable")
    }).pipe(Effect.provide(Env)))

  it.scopedLive("through the router, partial images arrive as progress events", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup()
      const events = yield* gen.generateStream({ prompt, model: "gpt-image-2", providerOptions: { partialImages: 2 } })
        .pipe(Stream.runCollect)
      const tags = Chunk.toReadonlyArray(events).map((e) => e._tag)
      assert.deepStrictEqual(tags, ["Started", "Running", "Running", "Completed"])
      const done = Chunk.unsafeLast(events)
      if (done._tag === "Completed") {
        assert.strictEqual(done.result.images.length, 1)
        assert.isDefined(done.result.costUsd)
      }
    }).pipe(Effect.provide(Env)))

  it.scopedLive("layerConfig reads OPENAI_BASE_URL and OPENAI_API_KEY", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "sk-env" })
      const provider = yield* Layer.build(OpenAiProvider.layerConfig()).pipe(
        Effect.map(Context.get(ImageProvider.ImageProvider)),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["OPENAI_BASE_URL", fake.url], ["OPENAI_API_KEY", "sk-env"]]))
        )
      )
      assert.strictEqual(provider.id, "openai")
      assert.strictEqual(provider.serverAddress, "127.0.0.1")
      const result = yield* (yield* routerFor(provider)).generate({ prompt })
      assert.strictEqual(result.model, "gpt-image-2")
    }).pipe(Effect.provide(Env)))
})

describe("OpenAiCompatibleProvider", () => {
  it("parses model lists", () => {
    assert.deepStrictEqual(OpenAiCompatibleProvider.parseModels("flux-dev, sdxl=stabilityai/sdxl"), [
      "flux-dev",
      { id: "stabilityai/sdxl", shorthands: ["sdxl"] }
    ])
  })

  it.scopedLive("talks to a keyless server with its own base URL and model list", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ requireKey: false, retired: [], models: ["gpt-image-1", "flux-dev"] })
      const provider = yield* Layer.build(OpenAiCompatibleProvider.layerConfig()).pipe(
        Effect.map(Context.get(ImageProvider.ImageProvider)),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([["OPENAI_COMPATIBLE_BASE_URL", fake.url], [
              "OPENAI_COMPATIBLE_MODELS",
              "local=gpt-image-1,flux-dev"
            ]])
          )
        )
      )
      assert.strictEqual(provider.id, "openai-compatible")
      const gen = yield* routerFor(provider)
      const result = yield* gen.generate({ prompt, aspectRatio: "3:2" })
      assert.strictEqual(result.provider, "openai-compatible")
      assert.strictEqual(result.model, "gpt-image-1")
      yield* gen.generate({ prompt, model: "openai-compatible:flux-dev", size: "1024x1024" })
      const [first, second] = yield* fake.server.requests
      assert.isUndefined(first!.headers["authorization"])
      assert.strictEqual((yield* bodyOf(first!)).size, "1536x1024")
      assert.strictEqual((yield* bodyOf(second!)).model, "flux-dev")
    }).pipe(Effect.provide(Env)))

  it.scopedLive("sends its key and maps 401 naming OPENAI_COMPATIBLE_API_KEY", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAi.make({ apiKey: "gw-key" })
      const good = yield* OpenAiCompatibleProvider.make({
        apiUrl: fake.url,
        apiKey: Redacted.make("gw-key"),
        models: ["gpt-image-2"]
      })
      const result = yield* (yield* routerFor(good)).generate({ prompt })
      assert.strictEqual(result.images.length, 1)
      const bad = yield* OpenAiCompatibleProvider.make({ apiUrl: fake.url, models: ["gpt-image-2"] })
      const error = yield* Effect.flip((yield* routerFor(bad)).generate({ prompt }))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "OPENAI_COMPATIBLE_API_KEY")
    }).pipe(Effect.provide(Env)))
})

import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as ImageGen from "@image-gen/core/ImageGen"
import type * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { RecraftClient, RecraftProvider } from "@image-gen/recraft"
import * as FakeRecraft from "@image-gen/recraft/testing"
import { FakeResponse, Fault } from "@image-gen/testing"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)
const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const
const generations = { method: "POST", path: "/v1/images/generations" }

const setup = (options: FakeRecraft.Options = {}, provider: RecraftProvider.Options = {}) =>
  Effect.gen(function*() {
    const fake = yield* FakeRecraft.make(options)
    const service = yield* RecraftProvider.make(provider).pipe(
      Effect.provide(RecraftClient.layer({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url }))
    )
    const gen = yield* ImageGen.make([service], { retry })
    return { fake, gen, service }
  })

const png = FakeRecraft.png(300, 300)

describe("RecraftProvider", () => {
  it.scopedLive("maps a raster request onto /images/generations and downloads the URLs at once", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({
        prompt: "a red fox, flat illustration",
        model: "recraft:recraftv3",
        size: "1365x1024",
        n: 2,
        seed: 11,
        negativePrompt: "text",
        outputFormat: "png",
        providerOptions: { style: "digital_illustration", controls: { artistic_level: 2, no_text: true } }
      })
      const [{ body, endpoint }] = (yield* fake.bodies) as unknown as [{ endpoint: string; body: unknown }]
      assert.strictEqual(endpoint, "generations")
      assert.deepStrictEqual(body, {
        prompt: "a red fox, flat illustration",
        model: "recraftv3",
        n: 2,
        response_format: "url",
        size: "1365x1024",
        negative_prompt: "text",
        random_seed: 11,
        image_format: "png",
        style: "digital_illustration",
        controls: { artistic_level: 2, no_text: true }
      })
      const [request] = yield* fake.server.requestsMatching(generations)
      assert.strictEqual(request!.headers["authorization"], `Bearer ${fake.apiKey}`)
      assert.strictEqual(result.images.length, 2)
      for (const image of result.images) {
        assert.strictEqual(image.mediaType, "image/png")
        assert.match(image.url!, /\/files\/[0-9a-f-]+\.png\?exp=\d+$/)
        assert.strictEqual(Buffer.from(image.bytes!).subarray(1, 4).toString("latin1"), "PNG")
        assert.strictEqual(image.width, 1365)
      }
      // Downloads carry no Recraft token.
      const downloads = yield* fake.server.requestsMatching({ path: "/files/:name" })
      assert.strictEqual(downloads.length, 2)
      for (const d of downloads) assert.isUndefined(d.headers["authorization"])
      assert.strictEqual(result.costUsd, 0.08)
      assert.deepStrictEqual(result.usage, { units: { credits: 80 } })
      assert.match(result.requestId, /^[0-9a-f-]{36}$/)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("vector models return SVG (bytes and URL); ratios go in size", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({ prompt: "a logo of a fox", model: "recraft-vector", aspectRatio: "16:9" })
      const [{ body }] = (yield* fake.bodies) as unknown as [{ body: Record<string, unknown> }]
      assert.strictEqual(body.model, "recraftv4_1_vector")
      assert.strictEqual(body.size, "16:9")
      const image = result.images[0]!
      assert.strictEqual(image.mediaType, "image/svg+xml")
      assert.match(new TextDecoder().decode(image.bytes!), /^<svg /)
      assert.match(image.url!, /\.svg\?exp=/)
      assert.strictEqual(result.costUsd, 0.08)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("b64_json answers carry the bytes inline", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({}, { responseFormat: "b64_json" })
      const result = yield* gen.generate({ prompt: "icon", model: "recraft:recraftv3_vector" })
      assert.strictEqual(result.images[0]!.mediaType, "image/svg+xml")
      assert.isUndefined(result.images[0]!.url)
      const raster = yield* gen.generate({ prompt: "photo", model: "recraft:recraftv4" })
      assert.strictEqual(raster.images[0]!.mediaType, "image/webp")
      assert.strictEqual(yield* fake.server.count({ path: "/files/:name" }), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("image-to-image sends a multipart form with the image and strength", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* gen.generate({
        prompt: "make it winter",
        model: "recraft:recraftv4",
        images: [new ImageRequest.ImageBytes({ data: png, mediaType: "image/png", name: "in.png" })]
      })
      const [{ body, endpoint }] = (yield* fake.bodies) as unknown as [
        { endpoint: string; body: Record<string, unknown> }
      ]
      assert.strictEqual(endpoint, "imageToImage")
      const { image, ...fields } = body
      assert.deepStrictEqual(fields, {
        prompt: "make it winter",
        model: "recraftv4",
        n: 1,
        response_format: "url",
        strength: 0.5
      })
      assert.strictEqual((image as File).name, "in.png")
      assert.strictEqual((image as File).size, png.byteLength)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a mask sends the request to /images/inpaint", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* gen.generate({
        prompt: "a blue door",
        model: "recraft:recraftv3",
        negativePrompt: "people",
        images: [new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" })],
        mask: new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" })
      })
      const [{ body, endpoint }] = (yield* fake.bodies) as unknown as [
        { endpoint: string; body: Record<string, unknown> }
      ]
      assert.strictEqual(endpoint, "inpaint")
      assert.instanceOf(body.mask, File)
      assert.strictEqual(body.negative_prompt, "people")
      assert.isUndefined(body.strength)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("n above 6 is split into calls of at most 6", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({ prompt: "eight", model: "recraft:recraftv4", n: 8 })
      assert.strictEqual(result.images.length, 8)
      const ns = (yield* fake.bodies).map((b) => b.body.n).sort()
      assert.deepStrictEqual(ns, [2, 6])
      assert.closeTo(result.costUsd!, 0.32, 1e-9)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("refuses what the model cannot do before any call", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const failures = yield* Effect.all([
        gen.generate({ prompt: "x", model: "recraft:recraftv4_1", negativePrompt: "y" }),
        gen.generate({ prompt: "x", model: "recraft:recraftv4_1_vector", outputFormat: "png" }),
        gen.generate({ prompt: "x", model: "recraft:recraftv4_1", outputFormat: "svg" }),
        gen.generate({ prompt: "x", model: "recraft:recraftv4_1", size: "1365x1024" }),
        gen.generate({ prompt: "x", model: "recraft:recraftv3", aspectRatio: "21:9" }),
        gen.generate({ prompt: "x", model: "recraft:recraftv3", quality: "high" }),
        gen.generate({ prompt: "x", model: "recraft:recraftv3", resolution: "2K" })
      ].map(Effect.flip))
      for (const error of failures) assert.strictEqual(error._tag, "UnsupportedCapability", error.message)
      assert.strictEqual(yield* fake.server.count(), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("401 is an AuthenticationError naming RECRAFT_API_TOKEN", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const service = yield* RecraftProvider.make().pipe(
        Effect.provide(RecraftClient.layer({ apiKey: Redacted.make("wrong"), apiUrl: fake.url }))
      )
      const gen = yield* ImageGen.make([service], { retry })
      const error = yield* Effect.flip(gen.generate({ prompt: "x" }))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag === "AuthenticationError") assert.strictEqual(error.keyName, "RECRAFT_API_TOKEN")
      assert.strictEqual(yield* fake.server.count(), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("400 from the published schema is InvalidRequest; moderation is ContentBlocked, never retried", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const invalid = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "recraft:recraftv3", providerOptions: { style: "watercolour" } })
      )
      assert.strictEqual(invalid._tag, "InvalidRequest")
      assert.include(invalid.message, "style: must be one of")
      const unknown = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "recraft:recraftv3", providerOptions: { steps: 3 } })
      )
      assert.include(unknown.message, "steps: unknown parameter")
      const blocked = yield* Effect.flip(gen.generate({ prompt: "forbidden thing", model: "recraft:recraftv3" }))
      assert.strictEqual(blocked._tag, "ContentBlocked")
      assert.strictEqual(yield* fake.server.count(generations), 3)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("402 is InvalidRequest; a retired model is ModelRetired", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup({ units: 50, retiredModels: ["recraftv2"] })
      const poor = yield* Effect.flip(gen.generate({ prompt: "x", model: "recraft:recraftv4_vector" }))
      assert.strictEqual(poor._tag, "InvalidRequest")
      if (poor._tag === "InvalidRequest") assert.strictEqual(poor.status, 402)
      const old = yield* Effect.flip(gen.generate({ prompt: "x", model: "recraft:recraftv2" }))
      assert.strictEqual(old._tag, "ModelRetired")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("honours Retry-After on 429; 5xx is ProviderUnavailable after the attempts", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(generations, [Fault.rateLimited({ retryAfterSeconds: 1 })])
      const started = Date.now()
      const ok = yield* gen.generate({ prompt: "x", model: "recraft:recraftv4" })
      assert.isAtLeast(Date.now() - started, 950)
      assert.strictEqual(ok.attempts, 2)
      assert.strictEqual(yield* fake.server.count(generations), 2)
      yield* fake.server.script(generations, [Fault.status(500), Fault.status(503), Fault.status(502)])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "recraft:recraftv4" }))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(yield* fake.server.count(generations), 5)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a gone result URL is DownloadFailed, without a second paid generation", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script({ path: "/files/:name" }, [Fault.status(404)])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "recraft:recraftv4" }))
      assert.strictEqual(error._tag, "DownloadFailed")
      assert.strictEqual(yield* fake.server.count(generations), 1)
      // The fake's knob: URLs answer 404 after expiry.
      const { images } = yield* gen.generate({ prompt: "y", model: "recraft:recraftv4" })
      yield* fake.expireUrls
      const status = yield* Effect.promise(() => fetch(images[0]!.url!).then((r) => r.status))
      assert.strictEqual(status, 404)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an answer of the wrong shape is MalformedResponse; a cut body is retried", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(generations, [FakeResponse.json({ created: 1, images: [] })])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "recraft:recraftv4" }))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.strictEqual(yield* fake.server.count(generations), 1)
      yield* fake.server.script(generations, [Fault.malformedJson()])
      const ok = yield* gen.generate({ prompt: "x", model: "recraft:recraftv4" })
      assert.strictEqual(ok.attempts, 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("layerConfig reads RECRAFT_API_TOKEN and RECRAFT_BASE_URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeRecraft.make()
      const gen = yield* ImageGen.ImageGen.pipe(
        Effect.provide(ImageGen.layer([RecraftProvider.layerConfig()], { retry })),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["RECRAFT_API_TOKEN", fake.apiKey], ["RECRAFT_BASE_URL", fake.url]]))
        )
      )
      const result = yield* gen.generate({ prompt: "from env" })
      assert.strictEqual(result.model, "recraftv4_1")
      const missing = yield* Layer.build(RecraftProvider.layerConfig()).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.flip
      )
      assert.include(String(missing), "RECRAFT_API_TOKEN")
    }).pipe(Effect.provide(Live)))
})

describe("RecraftProvider request schema", () => {
  const image = () => new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" })
  const calls: ReadonlyArray<readonly [string, ConstructorParameters<typeof ImageRequest.ImageRequest>[0], number]> = [
    ["recraftv3", {
      prompt: "p",
      size: "1024x1707",
      seed: 4_294_967_295,
      negativePrompt: "n",
      outputFormat: "webp",
      providerOptions: {
        style: "digital_illustration",
        substyle: "2d_art_poster",
        controls: { colors: [{ rgb: [1, 2, 3] }], background_color: { rgb: [0, 0, 0] } },
        text_layout: [{ text: "HI", bbox: [[0, 0], [1, 0], [1, 1], [0, 1]] }]
      }
    }, 6],
    ["recraftv3", {
      prompt: "p",
      aspectRatio: "14:10",
      providerOptions: { style: "vector_illustration", substyle: "line_art" }
    }, 1],
    ["recraftv4_1_pro", { prompt: "p", size: "2560x1664", outputFormat: "png" }, 1],
    ["recraftv4_1_vector", { prompt: "p", aspectRatio: "6:10", outputFormat: "svg" }, 3],
    ["recraftv4", { prompt: "p", seed: 1, images: [image()], providerOptions: { strength: 0.9, block_nsfw: true } }, 2],
    ["recraftv3", { prompt: "p", negativePrompt: "n", images: [image()], mask: image(), outputFormat: "png" }, 1]
  ]

  it.effect("every mapped parameter passes the published schemas", () =>
    Effect.gen(function*() {
      for (const [model, fields, n] of calls) {
        const call: ImageProvider.ProviderCall = {
          request: new ImageRequest.ImageRequest(fields),
          model,
          entry: undefined,
          n
        }
        const built = yield* RecraftProvider.buildRequest(call)
        const checked = built._tag === "Json"
          ? FakeRecraft.validate("generations", built.body)
          : FakeRecraft.validate(
            built.path.endsWith("inpaint") ? "inpaint" : "imageToImage",
            Object.fromEntries(built.form.entries())
          )
        assert.isTrue(
          Either.isRight(checked),
          `${model}: ${JSON.stringify(Either.isLeft(checked) ? checked.left : [])}`
        )
      }
      const rejected = FakeRecraft.validate("generations", {
        prompt: "p",
        model: "recraftv4",
        negative_prompt: "n",
        x: 1
      })
      assert.deepStrictEqual(Either.isLeft(rejected) ? rejected.left : [], ["x: unknown parameter"])
      const v4only = FakeRecraft.validate("generations", { prompt: "p", model: "recraftv4", negative_prompt: "n" })
      assert.deepStrictEqual(Either.isLeft(v4only) ? v4only.left : [], [
        "negative_prompt: is not supported by this model"
      ])
      const missing = FakeRecraft.validate("generations", {})
      assert.deepStrictEqual(Either.isLeft(missing) ? missing.left : [], ["prompt: is required"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as ImageGen from "@image-gen/core/ImageGen"
import type * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { StabilityClient, StabilityProvider } from "@image-gen/stability"
import * as FakeStability from "@image-gen/stability/testing"
import { Fault } from "@image-gen/testing"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)
const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const
const generateRoute = (kind: string) => ({ method: "POST", path: `/v2beta/stable-image/generate/${kind}` })

const setup = (options: FakeStability.Options = {}, provider: StabilityProvider.Options = {}) =>
  Effect.gen(function*() {
    const fake = yield* FakeStability.make(options)
    const service = yield* StabilityProvider.make(provider).pipe(
      Effect.provide(StabilityClient.layer({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url }))
    )
    const gen = yield* ImageGen.make([service], { retry })
    return { fake, gen, service }
  })

const png = FakeStability.png(64, 64)

describe("StabilityProvider", () => {
  it.scopedLive("maps every request field onto the core endpoint's form", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({
        prompt: "a lighthouse at dawn",
        model: "stability:stable-image-core",
        aspectRatio: "16:9",
        seed: 42,
        negativePrompt: "fog",
        outputFormat: "webp",
        providerOptions: { style_preset: "photographic" }
      })
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "core")
      assert.deepStrictEqual(form!.fields, {
        prompt: "a lighthouse at dawn",
        aspect_ratio: "16:9",
        seed: 42,
        negative_prompt: "fog",
        output_format: "webp",
        style_preset: "photographic"
      })
      const [request] = yield* fake.server.requests
      assert.strictEqual(request!.headers["authorization"], "Bearer sk-test")
      assert.strictEqual(request!.headers["accept"], "image/*")
      assert.match(request!.headers["content-type"]!, /^multipart\/form-data; boundary=/)
      assert.strictEqual(result.provider, "stability")
      assert.strictEqual(result.images[0]!.mediaType, "image/webp")
      assert.strictEqual(result.images[0]!.seed, 42)
      assert.strictEqual(result.costUsd, 0.03)
      assert.match(result.requestId, /^[0-9a-f]{32}$/)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("turns a size into its aspect ratio and reports the pixel size (ultra)", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({ prompt: "wide", model: "stability-ultra", size: "1536x640" })
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "ultra")
      assert.strictEqual(form!.fields.aspect_ratio, "21:9")
      const image = result.images[0]!
      assert.strictEqual(image.width, 1536)
      assert.strictEqual(image.height, 640)
      assert.strictEqual(image.mediaType, "image/png")
      assert.strictEqual(Buffer.from(image.bytes!).readUInt32BE(16), 1536)
      assert.strictEqual(result.costUsd, 0.08)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("sends sd3 models through the sd3 endpoint with image-to-image", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({
        prompt: "repaint in oil",
        model: "stability:sd3.5-large-turbo",
        outputFormat: "jpeg",
        images: [new ImageRequest.ImageBytes({ data: png, mediaType: "image/png", name: "in.png" })],
        providerOptions: { strength: 0.7, cfg_scale: 4 }
      })
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "sd3")
      const { image, ...fields } = form!.fields
      assert.deepStrictEqual(fields, {
        prompt: "repaint in oil",
        model: "sd3.5-large-turbo",
        mode: "image-to-image",
        strength: 0.7,
        cfg_scale: 4,
        output_format: "jpeg"
      })
      assert.instanceOf(image, File)
      assert.strictEqual((image as File).name, "in.png")
      assert.strictEqual((image as File).size, png.byteLength)
      assert.strictEqual(result.images[0]!.mediaType, "image/jpeg")
      assert.strictEqual(result.costUsd, 0.04)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("inpaints with an image and a mask (data: URL input)", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const dataUrl = `data:image/png;base64,${Buffer.from(png).toString("base64")}`
      yield* gen.generate({
        prompt: "a red door",
        model: "stability-inpaint",
        images: [new ImageRequest.ImageUrl({ url: dataUrl })],
        mask: new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" }),
        providerOptions: { grow_mask: 5 }
      })
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "inpaint")
      assert.instanceOf(form!.fields.image, File)
      assert.instanceOf(form!.fields.mask, File)
      assert.strictEqual(form!.fields.grow_mask, 5)
      assert.strictEqual((form!.fields.image as File).size, png.byteLength)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("splits n into one call per image with consecutive seeds", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({ prompt: "three cats", model: "stability:stable-image-core", n: 3, seed: 7 })
      assert.strictEqual(result.images.length, 3)
      const seeds = (yield* fake.forms).map((f) => f.fields.seed).sort()
      assert.deepStrictEqual(seeds, [7, 8, 9])
      assert.strictEqual(yield* fake.server.count(generateRoute("core")), 3)
      assert.closeTo(result.costUsd!, 0.09, 1e-9)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("refuses what the model cannot do before any call", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const failures = yield* Effect.all([
        gen.generate({ prompt: "x", model: "stability:stable-image-core", size: "1000x1000" }),
        gen.generate({ prompt: "x", model: "stability:stable-image-core", aspectRatio: "4:3" }),
        gen.generate({
          prompt: "x",
          model: "stability:stable-image-core",
          images: [new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" })]
        }),
        gen.generate({ prompt: "x", model: "stability:sd3.5-large", outputFormat: "webp" }),
        gen.generate({ prompt: "x", model: "stability:stable-image-ultra", quality: "high" }),
        gen.generate({ prompt: "x", model: "stability:stable-image-ultra", resolution: "4K" }),
        gen.generate({ prompt: "x", model: "stability:sd3-large-turbo", negativePrompt: "y" }),
        gen.generate({
          prompt: "x",
          model: "stability:stable-image-ultra",
          mask: new ImageRequest.ImageUrl({ url: "https://x.test/m.png" })
        }),
        gen.generate({ prompt: "x", model: "stability:stable-image-inpaint" })
      ].map(Effect.flip))
      for (const error of failures) assert.strictEqual(error._tag, "UnsupportedCapability", error.message)
      assert.strictEqual(yield* fake.server.count(), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("accepts an exact ratio size not in the table and sends the ratio", () =>
    Effect.gen(function*() {
      const { fake, service } = yield* setup()
      const request = new ImageRequest.ImageRequest({ prompt: "hd", size: "1920x1080" })
      yield* service.generate({ request, model: "stable-image-core", entry: undefined, n: 1 })
      assert.strictEqual((yield* fake.forms)[0]!.fields.aspect_ratio, "16:9")
      const bad = yield* Effect.flip(
        service.generate({
          request: new ImageRequest.ImageRequest({ prompt: "x", size: "1344x768", aspectRatio: "1:1" }),
          model: "stable-image-core",
          entry: undefined,
          n: 1
        })
      )
      assert.strictEqual(bad._tag, "InvalidRequest")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("401 is an AuthenticationError naming STABILITY_API_KEY", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const service = yield* StabilityProvider.make().pipe(
        Effect.provide(StabilityClient.layer({ apiKey: Redacted.make("sk-wrong"), apiUrl: fake.url }))
      )
      const gen = yield* ImageGen.make([service], { retry })
      const error = yield* Effect.flip(gen.generate({ prompt: "x" }))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag === "AuthenticationError") {
        assert.strictEqual(error.keyName, "STABILITY_API_KEY")
        assert.strictEqual(error.status, 401)
      }
      assert.notInclude(error.message, "sk-wrong")
      assert.strictEqual(yield* fake.server.count(), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("400 bad_request from the published schema is an InvalidRequest naming the field", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const error = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "stability:stable-image-core", providerOptions: { style_preset: "oil" } })
      )
      assert.strictEqual(error._tag, "InvalidRequest")
      if (error._tag === "InvalidRequest") {
        assert.strictEqual(error.field, "style_preset")
        assert.strictEqual(error.status, 400)
        assert.include(error.detail, "bad_request")
      }
      const unknown = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "stability:stable-image-core", providerOptions: { steps: 30 } })
      )
      assert.strictEqual(unknown._tag, "InvalidRequest")
      if (unknown._tag === "InvalidRequest") assert.strictEqual(unknown.field, "steps")
      assert.strictEqual(yield* fake.server.count(), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("403 content_moderation is ContentBlocked and never retried", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const error = yield* Effect.flip(
        gen.generate({ prompt: "something forbidden", model: "stability:stable-image-core" })
      )
      assert.strictEqual(error._tag, "ContentBlocked")
      if (error._tag === "ContentBlocked") assert.isDefined(error.requestId)
      assert.strictEqual(yield* fake.server.count(), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("finish reason CONTENT_FILTERED is ContentBlocked, or the blurred image on request", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup()
      const error = yield* Effect.flip(
        gen.generate({ prompt: "blurry-nsfw thing", model: "stability:stable-image-core" })
      )
      assert.strictEqual(error._tag, "ContentBlocked")
      if (error._tag === "ContentBlocked") assert.include(error.reason!, "CONTENT_FILTERED")

      const lenient = yield* setup({}, { onContentFiltered: "return" })
      const result = yield* lenient.gen.generate({ prompt: "blurry-nsfw thing", model: "stability:stable-image-core" })
      assert.strictEqual(result.images.length, 1)
      assert.deepStrictEqual(result.raw, {
        finishReason: "CONTENT_FILTERED",
        seed: result.images[0]!.seed,
        path: "/v2beta/stable-image/generate/core"
      })
    }).pipe(Effect.provide(Live)))

  it.scopedLive("402 payment_required is a non-retryable InvalidRequest", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ credits: 5 })
      yield* gen.generate({ prompt: "one", model: "stability:stable-image-core" })
      assert.strictEqual(yield* fake.credits, 2)
      const error = yield* Effect.flip(gen.generate({ prompt: "two", model: "stability:stable-image-core" }))
      assert.strictEqual(error._tag, "InvalidRequest")
      if (error._tag === "InvalidRequest") {
        assert.strictEqual(error.status, 402)
        assert.include(error.detail, "payment_required")
      }
      assert.strictEqual(yield* fake.server.count(), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a retired sd3 model is ModelRetired", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup({ retiredModels: ["sd3-medium"] })
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "stability:sd3-medium" }))
      assert.strictEqual(error._tag, "ModelRetired")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("honours Retry-After on 429 (two calls, at least a second apart)", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(generateRoute("core"), [
        Fault.rateLimited({
          retryAfterSeconds: 1,
          body: { id: "r1", name: "rate_limit_exceeded", errors: ["You have exceeded the rate limit"] }
        })
      ])
      const started = Date.now()
      const result = yield* gen.generate({ prompt: "x", model: "stability:stable-image-core" })
      assert.isAtLeast(Date.now() - started, 950)
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(yield* fake.server.count(generateRoute("core")), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("5xx is ProviderUnavailable, retried up to the attempts", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(generateRoute("core"), [
        Fault.status(500, { body: { id: "e1", name: "internal_error", errors: ["boom"] } }),
        Fault.status(503),
        Fault.status(502)
      ])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "stability:stable-image-core" }))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(yield* fake.server.count(generateRoute("core")), 3)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("transport failures are retried; an HTML page is MalformedResponse", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(generateRoute("core"), [Fault.resetBeforeResponse])
      const ok = yield* gen.generate({ prompt: "x", model: "stability:stable-image-core" })
      assert.strictEqual(ok.attempts, 2)
      yield* fake.server.script(generateRoute("core"), [Fault.wrongContentType()])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "stability:stable-image-core" }))
      assert.strictEqual(error._tag, "MalformedResponse")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a hung call times out as RequestTimeout", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const service = yield* StabilityProvider.make().pipe(
        Effect.provide(
          StabilityClient.layer({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url, timeout: "200 millis" })
        )
      )
      yield* fake.server.scriptAll([Fault.hang])
      const error = yield* Effect.flip(
        service.generate({
          request: new ImageRequest.ImageRequest({ prompt: "x" }),
          model: "stable-image-core",
          entry: undefined,
          n: 1
        })
      )
      assert.strictEqual(error._tag, "RequestTimeout")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("layerConfig reads STABILITY_API_KEY and STABILITY_BASE_URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const gen = yield* ImageGen.ImageGen.pipe(
        Effect.provide(ImageGen.layer([StabilityProvider.layerConfig()], { retry })),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["STABILITY_API_KEY", fake.apiKey], ["STABILITY_BASE_URL", fake.url]]))
        )
      )
      const result = yield* gen.generate({ prompt: "from env" })
      assert.strictEqual(result.model, "stable-image-core")
      const missing = yield* Layer.build(StabilityProvider.layerConfig()).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.flip
      )
      assert.include(String(missing), "STABILITY_API_KEY")
    }).pipe(Effect.provide(Live)))
})

describe("StabilityProvider request schema", () => {
  const image = () => new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" })
  const calls: ReadonlyArray<readonly [string, ConstructorParameters<typeof ImageRequest.ImageRequest>[0]]> = [
    ["stable-image-ultra", {
      prompt: "p",
      negativePrompt: "n",
      aspectRatio: "9:21",
      seed: 4_294_967_294,
      outputFormat: "webp",
      providerOptions: { style_preset: "anime" }
    }],
    ["stable-image-ultra", { prompt: "p", images: [image()], aspectRatio: "1:1", outputFormat: "jpeg" }],
    ["stable-image-core", { prompt: "p", size: "832x1216", seed: 0, outputFormat: "png" }],
    ["sd3.5-medium", { prompt: "p", aspectRatio: "3:2", negativePrompt: "n", providerOptions: { cfg_scale: 7 } }],
    ["sd3-large-turbo", { prompt: "p", aspectRatio: "5:4", outputFormat: "jpeg" }],
    ["sd3.5-large", { prompt: "p", seed: 3, images: [image()], providerOptions: { strength: 0.2 } }],
    ["stable-image-inpaint", {
      prompt: "p",
      negativePrompt: "n",
      seed: 1,
      outputFormat: "webp",
      images: [image()],
      mask: image(),
      providerOptions: { grow_mask: 10, style_preset: "enhance" }
    }]
  ]
  const endpointOf = (path: string): FakeStability.Endpoint =>
    path.endsWith("/ultra") ? "ultra" : path.endsWith("/core") ? "core" : path.endsWith("/sd3") ? "sd3" : "inpaint"

  it.effect("every mapped parameter passes the endpoints' published schemas", () =>
    Effect.gen(function*() {
      for (const [model, fields] of calls) {
        const call: ImageProvider.ProviderCall = {
          request: new ImageRequest.ImageRequest(fields),
          model,
          entry: undefined,
          n: 1
        }
        const { form, path } = yield* StabilityProvider.buildForm(call)
        const checked = FakeStability.validateForm(endpointOf(path), form)
        assert.isTrue(
          Either.isRight(checked),
          `${model}: ${JSON.stringify(Either.isLeft(checked) ? checked.left : [])}`
        )
      }
      // And the schema really rejects what Stability rejects.
      const bad = new FormData()
      bad.set("prompt", "p")
      bad.set("aspect_ratio", "4:3")
      bad.set("sampler", "x")
      const rejected = FakeStability.validateForm("core", bad)
      assert.isTrue(Either.isLeft(rejected))
      if (Either.isLeft(rejected)) {
        assert.strictEqual(rejected.left.length, 2)
        assert.match(rejected.left.join("\n"), /aspect_ratio: /)
        assert.match(rejected.left.join("\n"), /sampler: is not a recognised parameter/)
      }
      const missing = FakeStability.validateForm("core", new FormData())
      assert.deepStrictEqual(Either.isLeft(missing) ? missing.left : [], ["prompt: is required"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scopedLive("the fake honours accept: application/json and rejects JSON bodies like Stability", () =>
    Effect.gen(function*() {
      const fake = yield* FakeStability.make()
      const form = new FormData()
      form.set("prompt", "json mode")
      form.set("seed", "5")
      const json = yield* Effect.promise(() =>
        fetch(`${fake.url}/v2beta/stable-image/generate/core`, {
          method: "POST",
          headers: { authorization: `Bearer ${fake.apiKey}`, accept: "application/json" },
          body: form
        }).then(async (r) => ({
          status: r.status,
          headers: r.headers,
          body: (await r.json()) as Record<string, unknown>
        }))
      )
      assert.strictEqual(json.status, 200)
      assert.isNull(json.headers.get("finish-reason"))
      assert.strictEqual(json.body.finish_reason, "SUCCESS")
      assert.strictEqual(json.body.seed, 5)
      assert.isString(json.body.image)
      const wrong = yield* Effect.promise(() =>
        fetch(`${fake.url}/v2beta/stable-image/generate/core`, {
          method: "POST",
          headers: { authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ prompt: "x" })
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }))
      )
      assert.strictEqual(wrong.status, 400)
      assert.strictEqual(wrong.body.name, "bad_request")
      assert.deepStrictEqual(wrong.body.errors, ["content-type: must be multipart/form-data"])
    }))
})

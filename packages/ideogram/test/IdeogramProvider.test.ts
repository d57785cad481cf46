import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import * as Headers from "@effect/platform/Headers"
import { assert, describe, it } from "@effect/vitest"
import * as ImageGen from "@image-gen/core/ImageGen"
import type * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { IdeogramClient, IdeogramProvider } from "@image-gen/ideogram"
import * as FakeIdeogram from "@image-gen/ideogram/testing"
import { Fault } from "@image-gen/testing"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)
const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const
const generateRoute = { method: "POST", path: "/v1/ideogram-v3/generate" }
const imagesRoute = { method: "GET", path: "/api/images/ephemeral/:name" }

const setup = (options: FakeIdeogram.Options = {}, provider: IdeogramProvider.Options = {}) =>
  Effect.gen(function*() {
    const fake = yield* FakeIdeogram.make(options)
    const service = yield* IdeogramProvider.make(provider).pipe(
      Effect.provide(IdeogramClient.layer({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url }))
    )
    const gen = yield* ImageGen.make([service], { retry })
    return { fake, gen, service }
  })

const png = FakeIdeogram.png(64, 64)

describe("IdeogramProvider", () => {
  it.scopedLive("maps every request field onto the v3 generate form and downloads the URLs at once", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({
        prompt: "a letterpress poster that reads OPEN",
        model: "ideogram:ideogram-v3",
        aspectRatio: "16:9",
        n: 3,
        seed: 1234,
        negativePrompt: "blurry",
        quality: "quality",
        providerOptions: { magic_prompt: "ON", style_type: "DESIGN", color_palette: { name: "PASTEL" } }
      })
      const [form] = yield* fake.forms
      assert.strictEqual(form!.endpoint, "generate")
      assert.deepStrictEqual(form!.fields, {
        prompt: "a letterpress poster that reads OPEN",
        num_images: 3,
        seed: 1234,
        rendering_speed: "QUALITY",
        negative_prompt: "blurry",
        aspect_ratio: "16x9",
        magic_prompt: "ON",
        style_type: "DESIGN",
        color_palette: { name: "PASTEL" }
      })
      const [request] = yield* fake.server.requestsMatching(generateRoute)
      assert.strictEqual(request!.headers["api-key"], fake.apiKey)
      assert.isUndefined(request!.headers["authorization"])
      assert.strictEqual(result.images.length, 3)
      result.images.forEach((image, i) => {
        assert.strictEqual(image.mediaType, "image/png")
        assert.match(image.url!, /\/api\/images\/ephemeral\/\w+\.png\?exp=\d+&sig=/)
        assert.strictEqual(Buffer.from(image.bytes!).subarray(1, 4).toString("latin1"), "PNG")
        assert.strictEqual(image.seed, 1234 + i)
        assert.strictEqual(image.revisedPrompt, "a letterpress poster that reads OPEN, highly detailed")
        assert.closeTo(image.width! / image.height!, 16 / 9, 0.05)
      })
      // Downloads carry no key, and happened inside generate (no `download` option needed).
      const downloads = yield* fake.server.requestsMatching(imagesRoute)
      assert.strictEqual(downloads.length, 3)
      for (const d of downloads) assert.isUndefined(d.headers["api-key"])
      assert.closeTo(result.costUsd!, 0.27, 1e-9)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("sends an exact size as resolution; turbo and quality model ids set rendering_speed", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({ prompt: "wide", model: "ideogram-turbo", size: "1536x640" })
      const [form] = yield* fake.forms
      assert.strictEqual(form!.fields.resolution, "1536x640")
      assert.strictEqual(form!.fields.rendering_speed, "TURBO")
      assert.isUndefined(form!.fields.aspect_ratio)
      assert.strictEqual(result.images[0]!.width, 1536)
      assert.strictEqual(result.costUsd, 0.03)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an input image with a mask goes to /edit; without one to /remix", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* gen.generate({
        prompt: "replace the sky with a sunset",
        model: "ideogram:ideogram-v3",
        images: [new ImageRequest.ImageBytes({ data: png, mediaType: "image/png", name: "photo.png" })],
        mask: new ImageRequest.ImageBytes({ data: png, mediaType: "image/png", name: "mask.png" })
      })
      yield* gen.generate({
        prompt: "the same scene in winter",
        model: "ideogram:ideogram-v3",
        aspectRatio: "4:3",
        images: [new ImageRequest.ImageUrl({ url: `data:image/png;base64,${Buffer.from(png).toString("base64")}` })],
        providerOptions: { image_weight: 70 }
      })
      const [edit, remix] = yield* fake.forms
      assert.strictEqual(edit!.endpoint, "edit")
      assert.strictEqual((edit!.fields.image as File).name, "photo.png")
      assert.strictEqual((edit!.fields.mask as File).name, "mask.png")
      assert.strictEqual(remix!.endpoint, "remix")
      assert.strictEqual(remix!.fields.image_weight, 70)
      assert.strictEqual(remix!.fields.aspect_ratio, "4x3")
      assert.strictEqual((remix!.fields.image as File).size, png.byteLength)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("n above 8 is split; style_codes go as repeated parts", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ maxInflightImages: 20 })
      const result = yield* gen.generate({
        prompt: "ten stickers",
        model: "ideogram:ideogram-v3",
        n: 10,
        providerOptions: { style_codes: ["AB12CD34", "0F0F0F0F"] }
      })
      assert.strictEqual(result.images.length, 10)
      const forms = yield* fake.forms
      assert.deepStrictEqual(forms.map((f) => f.fields.num_images).sort(), [2, 8])
      assert.deepStrictEqual(forms[0]!.fields.style_codes, ["AB12CD34", "0F0F0F0F"])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("refuses what Ideogram cannot do before any call", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const mask = new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" })
      const failures = yield* Effect.all([
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", size: "1000x1000" }),
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", aspectRatio: "21:9" }),
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", outputFormat: "webp" }),
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", quality: "ultra" }),
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3-turbo", quality: "quality" }),
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", resolution: "4K" }),
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", mask }),
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", images: [mask], mask, negativePrompt: "n" })
      ].map(Effect.flip))
      for (const error of failures) assert.strictEqual(error._tag, "UnsupportedCapability", error.message)
      const unknown = yield* Effect.flip(gen.generate({ prompt: "x", model: "ideogram:V_2" }))
      assert.strictEqual(unknown._tag, "UnknownModel")
      assert.strictEqual(yield* fake.server.count(), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("422 is ContentBlocked, never retried; all-unsafe output is ContentBlocked (billed)", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const blocked = yield* Effect.flip(gen.generate({ prompt: "forbidden thing", model: "ideogram:ideogram-v3" }))
      assert.strictEqual(blocked._tag, "ContentBlocked")
      assert.strictEqual(yield* fake.server.count(generateRoute), 1)
      const unsafe = yield* Effect.flip(gen.generate({ prompt: "unsafe-output", model: "ideogram:ideogram-v3", n: 2 }))
      assert.strictEqual(unsafe._tag, "ContentBlocked")
      if (unsafe._tag === "ContentBlocked") assert.include(unsafe.reason!, "2 of 2 images")
      assert.strictEqual(yield* fake.server.count(generateRoute), 2)
      assert.strictEqual(yield* fake.server.count(imagesRoute), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("partly unsafe output returns the safe images and counts the others", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup()
      const result = yield* gen.generate({ prompt: "partly-unsafe", model: "ideogram:ideogram-v3", n: 3 })
      assert.strictEqual(result.images.length, 2)
      assert.deepStrictEqual(result.usage, { units: { images: 3, unsafe_images: 1 } })
      assert.closeTo(result.costUsd!, 0.18, 1e-9)
      const strict = yield* setup({}, { onUnsafeImage: "fail" })
      const error = yield* Effect.flip(
        strict.gen.generate({ prompt: "partly-unsafe", model: "ideogram:ideogram-v3", n: 3 })
      )
      assert.strictEqual(error._tag, "ContentBlocked")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("401 is AuthenticationError naming IDEOGRAM_API_KEY; 402 insufficient_funds is InvalidRequest", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make({ balanceUsd: 0.05 })
      const wrong = yield* IdeogramProvider.make().pipe(
        Effect.provide(IdeogramClient.layer({ apiKey: Redacted.make("nope"), apiUrl: fake.url }))
      )
      const auth = yield* Effect.flip((yield* ImageGen.make([wrong], { retry })).generate({ prompt: "x" }))
      assert.strictEqual(auth._tag, "AuthenticationError")
      if (auth._tag === "AuthenticationError") assert.strictEqual(auth.keyName, "IDEOGRAM_API_KEY")
      assert.notInclude(auth.message, "nope")
      const right = yield* IdeogramProvider.make().pipe(
        Effect.provide(IdeogramClient.layer({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url }))
      )
      const funds = yield* Effect.flip((yield* ImageGen.make([right], { retry })).generate({ prompt: "x" }))
      assert.strictEqual(funds._tag, "InvalidRequest")
      if (funds._tag === "InvalidRequest") {
        assert.strictEqual(funds.status, 402)
        assert.include(funds.detail, "insufficient_funds")
      }
    }).pipe(Effect.provide(Live)))

  it.scopedLive("400 from the published schema is InvalidRequest", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup()
      const error = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", providerOptions: { style_type: "ANIME" } })
      )
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.include(error.message, "style_type: must be one of")
      const unknown = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "ideogram:ideogram-v3", providerOptions: { guidance: 3 } })
      )
      assert.include(unknown.message, "guidance: is not a valid parameter")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("429 inflight_limit is RateLimited and retried; Retry-After is honoured", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ maxInflightImages: 4, latency: "100 millis" })
      const [a, b] = yield* Effect.all([
        gen.generate({ prompt: "a", model: "ideogram:ideogram-v3", n: 4 }),
        Effect.delay(
          gen.generate({ prompt: "b", model: "ideogram:ideogram-v3", n: 1 }, {
            retry: { attempts: 5, baseDelay: "60 millis" }
          }),
          "30 millis"
        )
      ], { concurrency: 2 })
      assert.strictEqual(a.attempts, 1)
      assert.isAtLeast(b.attempts, 2)
      yield* fake.server.clearRequests
      yield* fake.server.script(generateRoute, [Fault.rateLimited({ retryAfterSeconds: 1 })])
      const started = Date.now()
      const ok = yield* gen.generate({ prompt: "c", model: "ideogram:ideogram-v3" })
      assert.isAtLeast(Date.now() - started, 950)
      assert.strictEqual(ok.attempts, 2)
      assert.strictEqual(yield* fake.server.count(generateRoute), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("5xx is ProviderUnavailable after the attempts", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(generateRoute, [Fault.status(503), Fault.status(500), Fault.status(502)])
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "ideogram:ideogram-v3" }))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(yield* fake.server.count(generateRoute), 3)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an expired URL is DownloadFailed without a second paid generation; a 503 download is retried", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ urlLifetime: 0 })
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "ideogram:ideogram-v3" }))
      assert.strictEqual(error._tag, "DownloadFailed")
      if (error._tag === "DownloadFailed") assert.strictEqual(error.status, 403)
      assert.strictEqual(yield* fake.server.count(generateRoute), 1)

      const ok = yield* setup()
      yield* ok.fake.server.script(imagesRoute, [Fault.status(503)])
      const result = yield* ok.gen.generate({ prompt: "x", model: "ideogram:ideogram-v3" })
      assert.isDefined(result.images[0]!.bytes)
      assert.strictEqual(yield* ok.fake.server.count(imagesRoute), 2)
      assert.strictEqual(yield* ok.fake.server.count(generateRoute), 1)
      yield* ok.fake.expireUrls
      const status = yield* Effect.promise(() => fetch(result.images[0]!.url!).then((r) => r.status))
      assert.strictEqual(status, 403)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("the Api-Key header is redacted in traces while the client layer lives", () =>
    Effect.gen(function*() {
      const names = yield* FiberRef.get(Headers.currentRedactedNames).pipe(
        Effect.provide(IdeogramClient.layer({ apiKey: Redacted.make("k"), apiUrl: "http://127.0.0.1:1" }))
      )
      assert.include(names, "api-key")
      const redacted = Headers.redact(Headers.fromInput({ "api-key": "secret" }), names)
      assert.notStrictEqual(redacted["api-key"], "secret")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("layerConfig reads IDEOGRAM_API_KEY and IDEOGRAM_BASE_URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeIdeogram.make()
      const gen = yield* ImageGen.ImageGen.pipe(
        Effect.provide(ImageGen.layer([IdeogramProvider.layerConfig()], { retry })),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["IDEOGRAM_API_KEY", fake.apiKey], ["IDEOGRAM_BASE_URL", fake.url]]))
        )
      )
      const result = yield* gen.generate({ prompt: "from env" })
      assert.strictEqual(result.model, "ideogram-v3")
      assert.strictEqual(result.costUsd, 0.06)
      const missing = yield* Layer.build(IdeogramProvider.layerConfig()).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.flip
      )
      assert.include(String(missing), "IDEOGRAM_API_KEY")
    }).pipe(Effect.provide(Live)))
})

describe("IdeogramProvider request schema", () => {
  const image = () => new ImageRequest.ImageBytes({ data: png, mediaType: "image/png" })
  const calls: ReadonlyArray<readonly [string, ConstructorParameters<typeof ImageRequest.ImageRequest>[0], number]> = [
    ["ideogram-v3", {
      prompt: "p",
      aspectRatio: "10:16",
      seed: 2_147_483_647,
      negativePrompt: "n",
      quality: "flash",
      outputFormat: "png",
      resolution: "1K",
      providerOptions: {
        magic_prompt: "OFF",
        style_codes: ["DEADBEEF"],
        color_palette: { members: [{ color_hex: "#ff0000", color_weight: 0.5 }] }
      }
    }, 8],
    ["ideogram-v3-quality", { prompt: "p", size: "640x1536", providerOptions: { style_type: "FICTION" } }, 1],
    ["ideogram-v3", { prompt: "p", images: [image()], size: "1024x1024", negativePrompt: "n", quality: "turbo" }, 2],
    ["ideogram-v3-turbo", { prompt: "p", images: [image()], mask: image(), seed: 0 }, 4]
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
        const { form, path } = yield* IdeogramProvider.buildForm(call)
        const endpoint = path.split("/").pop() as FakeIdeogram.Endpoint
        const checked = FakeIdeogram.validateForm(endpoint, form)
        assert.isTrue(
          Either.isRight(checked),
          `${model}: ${JSON.stringify(Either.isLeft(checked) ? checked.left : [])}`
        )
      }
      const both = new FormData()
      both.set("prompt", "p")
      both.set("resolution", "1024x1024")
      both.set("aspect_ratio", "1x1")
      const rejected = FakeIdeogram.validateForm("generate", both)
      assert.deepStrictEqual(Either.isLeft(rejected) ? rejected.left : [], [
        "resolution: cannot be combined with aspect_ratio"
      ])
      const missing = FakeIdeogram.validateForm("edit", new FormData())
      assert.deepStrictEqual(Either.isLeft(missing) ? missing.left : [], [
        "prompt: is required",
        "image: is required",
        "mask: is required"
      ])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

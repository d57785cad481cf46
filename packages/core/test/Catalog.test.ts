import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Catalog from "../src/Catalog.js"
import * as ImageRequest from "../src/ImageRequest.js"

const fal = Catalog.decodeFile({
  provider: "fal",
  defaultModel: "fal-ai/flux/dev",
  models: [
    { id: "fal-ai/flux/dev", shorthands: ["flux"], price: { perMegapixel: 0.025 } },
    { id: "fal-ai/flux/schnell", shorthands: ["flux-schnell"], price: { perImage: 0.003 } },
    {
      id: "fal-ai/old",
      shorthands: ["old"],
      lifecycle: { status: "retired", date: "2026-09-30", replacement: "fal:flux" }
    }
  ]
}).pipe(Either.getOrThrow)
const openai = Catalog.decodeFile({
  provider: "openai",
  acceptsUnknownModels: false,
  models: [{
    id: "gpt-image-1.5",
    shorthands: ["gpt-image-1.5"],
    price: { byQuality: { low: 0.01, high: 0.17 } }
  }]
}).pipe(Either.getOrThrow)
const catalog = Catalog.merge(Catalog.empty, fal, openai)
const installed = ["fal", "openai"]

describe("Catalog", () => {
  it.effect("resolves provider:model, bare shorthand, bare full id and provider defaults", () =>
    Effect.gen(function*() {
      const prefixed = yield* Catalog.resolve(catalog, "fal:flux", installed)
      assert.deepStrictEqual([prefixed.provider, prefixed.model], ["fal", "fal-ai/flux/dev"])
      const shorthand = yield* Catalog.resolve(catalog, "flux-schnell", installed)
      assert.deepStrictEqual([shorthand.provider, shorthand.model], ["fal", "fal-ai/flux/schnell"])
      const full = yield* Catalog.resolve(catalog, "gpt-image-1.5", installed)
      assert.strictEqual(full.provider, "openai")
      const providerOnly = yield* Catalog.resolve(catalog, "fal", installed)
      assert.strictEqual(providerOnly.model, "fal-ai/flux/dev")
    }))

  it.effect("passes unknown full ids through without an entry, where the provider allows it", () =>
    Effect.gen(function*() {
      const passed = yield* Catalog.resolve(catalog, "fal:fal-ai/sdxl/lightning", installed)
      assert.strictEqual(passed.model, "fal-ai/sdxl/lightning")
      assert.isUndefined(passed.entry)
      const refused = yield* Effect.flip(Catalog.resolve(catalog, "openai:dall-e-9", installed))
      assert.strictEqual(refused._tag, "UnknownModel")
    }))

  it.effect("an unknown prefix lists the installed providers; an unknown bare name suggests close ones", () =>
    Effect.gen(function*() {
      const prefix = yield* Effect.flip(Catalog.resolve(catalog, "runway:gen-3", installed))
      assert.strictEqual(prefix._tag, "UnknownProvider")
      assert.include(prefix.message, "installed providers: fal, openai")
      const bare = yield* Effect.flip(Catalog.resolve(catalog, "flxu", installed))
      assert.strictEqual(bare._tag, "UnknownModel")
      assert.include(bare.message, "flux")
    }))

  it.effect("a retired model is an error naming its replacement", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Catalog.resolve(catalog, "old", installed))
      assert.strictEqual(error._tag, "ModelRetired")
      assert.include(error.message, "retired on 2026-09-30; use fal:flux instead")
    }))

  it("a deprecated model resolves, with a notice naming its date and replacement", () => {
    const notice = Catalog.deprecationNotice({
      provider: "fal",
      model: "m",
      entry: {
        provider: "fal",
        id: "m",
        shorthands: [],
        output: "image",
        capabilities: {},
        lifecycle: { status: "deprecated", date: "2026-12-01", replacement: "fal:flux" }
      }
    })
    assert.strictEqual(notice, "fal:m is deprecated (retirement 2026-12-01); use fal:flux instead")
    assert.isUndefined(Catalog.deprecationNotice({ provider: "fal", model: "x", entry: undefined }))
  })

  it("merging replaces entries by id and appends new ones (runtime extension)", () => {
    const extended = Catalog.merge(catalog, {
      provider: "fal",
      acceptsUnknownModels: true,
      models: [
        {
          id: "fal-ai/flux/dev",
          shorthands: ["flux", "dev"],
          output: "image",
          capabilities: {},
          lifecycle: { status: "current" }
        },
        { id: "my/model", shorthands: ["mine"], output: "image", capabilities: {}, lifecycle: { status: "current" } }
      ]
    })
    const ids = Catalog.models(extended, "fal").map((m) => m.id)
    assert.deepStrictEqual(ids, ["fal-ai/flux/dev", "fal-ai/flux/schnell", "fal-ai/old", "my/model"])
    assert.deepStrictEqual(Catalog.models(extended, "fal")[0]!.shorthands, ["flux", "dev"])
  })

  it("rejects malformed catalog data with the field named", () => {
    const bad = Catalog.decodeFile({ provider: "x", models: [{ id: 3 }] })
    assert.isTrue(Either.isLeft(bad))
    if (Either.isLeft(bad)) assert.include(bad.left.message, "id")
  })

  it("estimates cost per megapixel, per quality and per image, times n", () => {
    const flux = Catalog.models(catalog, "fal")[0]!
    assert.deepStrictEqual(Catalog.estimateCost(flux, { n: 2, size: "1024x1024" }), Option.some(0.05))
    assert.deepStrictEqual(Catalog.estimateCost(flux, { size: "2048x2048" }), Option.some(0.025 * 4))
    const gpt = Catalog.models(catalog, "openai")[0]!
    assert.deepStrictEqual(Catalog.estimateCost(gpt, { quality: "high" }), Option.some(0.17))
    assert.isTrue(Option.isNone(Catalog.estimateCost(gpt, {})))
    assert.isTrue(Option.isNone(Catalog.estimateCost(undefined, {})))
  })

  it("computes dimensions from size, or ratio at the resolution's long edge", () => {
    assert.deepStrictEqual(ImageRequest.dimensions({ size: "640x480" }), { width: 640, height: 480 })
    assert.deepStrictEqual(ImageRequest.dimensions({ aspectRatio: "16:9" }), { width: 1024, height: 576 })
    assert.deepStrictEqual(ImageRequest.dimensions({ aspectRatio: "9:16", resolution: "1080p" }), {
      width: 1080,
      height: 1920
    })
  })
})

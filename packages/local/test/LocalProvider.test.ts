import { assert, describe, it } from "@effect/vitest"
import * as Catalog from "@image-gen/core/Catalog"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import type { GeneratedImage } from "@image-gen/core/ImageResult"
import { LocalProvider } from "@image-gen/local"
import { createCanvas, loadImage } from "@napi-rs/canvas"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const prompt = "a lighthouse on a cliff at sunset"

const callOf = (
  fields: Omit<ConstructorParameters<typeof ImageRequest.ImageRequest>[0], "prompt"> & { readonly prompt?: string },
  n = fields.n ?? 1
): ImageProvider.ProviderCall => ({
  request: new ImageRequest.ImageRequest({ prompt, ...fields }),
  model: "placeholder-1",
  entry: undefined,
  n
})

const generate = (fields: Parameters<typeof callOf>[0], n?: number) =>
  Effect.flatMap(LocalProvider.make(), (provider) => provider.generate(callOf(fields, n)))

const bytesOf = (image: GeneratedImage | undefined): Uint8Array => {
  assert.isDefined(image?.bytes)
  return image!.bytes!
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

const pngSize = (bytes: Uint8Array) => {
  const view = Buffer.from(bytes)
  assert.strictEqual(view.subarray(1, 4).toString("latin1"), "PNG")
  assert.strictEqual(view.subarray(12, 16).toString("latin1"), "IHDR")
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) }
}

/** Pixels of an encoded image, decoded with the canvas library. */
const pixels = (bytes: Uint8Array) =>
  Effect.promise(async () => {
    const image = await loadImage(bytes)
    const canvas = createCanvas(image.width, image.height)
    const ctx = canvas.getContext("2d")
    ctx.drawImage(image, 0, 0)
    return { width: image.width, height: image.height, data: ctx.getImageData(0, 0, image.width, image.height).data }
  })

const solidPng = (color: string, width = 320, height = 200) =>
  Effect.promise(() => {
    const canvas = createCanvas(width, height)
    const ctx = canvas.getContext("2d")
    ctx.fillStyle = color
    ctx.fillRect(0, 0, width, height)
    return canvas.encode("png")
  }).pipe(Effect.map((buffer) => new Uint8Array(buffer)))

describe("LocalProvider", () => {
  it("ships a catalog that resolves `local` to its default model", () =>
    Effect.gen(function*() {
      assert.strictEqual(LocalProvider.catalog.provider, "local")
      assert.isFalse(LocalProvider.catalog.acceptsUnknownModels)
      const merged = Catalog.merge(Catalog.empty, LocalProvider.catalog)
      const resolved = yield* Catalog.resolve(merged, "local", ["local"])
      assert.strictEqual(resolved.model, "placeholder-1")
      const shorthand = yield* Catalog.resolve(merged, "local:local", ["local"])
      assert.strictEqual(shorthand.model, "placeholder-1")
      const estimate = Catalog.estimateCost(resolved.entry, { n: 4 })
      assert.deepStrictEqual(estimate, Option.some(0))
    }).pipe(Effect.runPromise))

  it.effect("is provided as core's ImageProvider by layer()", () =>
    Effect.gen(function*() {
      const provider = yield* ImageProvider.ImageProvider
      assert.strictEqual(provider.id, "local")
      const result = yield* provider.generate(callOf({ size: "256x192" }))
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(result.costUsd, 0)
      assert.match(result.requestId ?? "", /^local-[0-9a-f]{16}$/)
    }).pipe(Effect.provide(LocalProvider.layer())))

  it.effect("is deterministic: same prompt and seed give the same bytes, another seed other bytes", () =>
    Effect.gen(function*() {
      const a = yield* generate({ seed: 42, size: "320x240" })
      const b = yield* generate({ seed: 42, size: "320x240" })
      const c = yield* generate({ seed: 43, size: "320x240" })
      assert.isTrue(same(bytesOf(a.images[0]), bytesOf(b.images[0])))
      assert.isFalse(same(bytesOf(a.images[0]), bytesOf(c.images[0])))
      assert.strictEqual(a.requestId, b.requestId)
      assert.notStrictEqual(a.requestId, c.requestId)
      assert.strictEqual(a.images[0]!.seed, 42)
    }))

  it.effect("without a seed derives one from the prompt", () =>
    Effect.gen(function*() {
      const a = yield* generate({ size: "256x256" })
      const b = yield* generate({ size: "256x256" })
      const other = yield* generate({ prompt: "a forest in the fog", size: "256x256" })
      assert.isTrue(same(bytesOf(a.images[0]), bytesOf(b.images[0])))
      assert.isFalse(same(bytesOf(a.images[0]), bytesOf(other.images[0])))
      assert.isNumber(a.images[0]!.seed)
      assert.notStrictEqual(a.images[0]!.seed, other.images[0]!.seed)
    }))

  it.effect("renders the exact size asked for", () =>
    Effect.gen(function*() {
      const result = yield* generate({ size: "1024x768", seed: 1 })
      const image = result.images[0]!
      assert.deepStrictEqual(pngSize(bytesOf(image)), { width: 1024, height: 768 })
      assert.strictEqual(image.width, 1024)
      assert.strictEqual(image.height, 768)
      assert.strictEqual(image.mediaType, "image/png")
      const odd = yield* generate({ size: "333x97" })
      assert.deepStrictEqual(pngSize(bytesOf(odd.images[0])), { width: 333, height: 97 })
    }))

  it.effect("derives the size from the aspect ratio and resolution", () =>
    Effect.gen(function*() {
      const wide = yield* generate({ aspectRatio: "16:9" })
      assert.deepStrictEqual(pngSize(bytesOf(wide.images[0])), { width: 1024, height: 576 })
      const tall = yield* generate({ aspectRatio: "9:16" })
      assert.deepStrictEqual(pngSize(bytesOf(tall.images[0])), { width: 576, height: 1024 })
      const square = yield* generate({})
      assert.deepStrictEqual(pngSize(bytesOf(square.images[0])), { width: 1024, height: 1024 })
      const hd = yield* generate({ aspectRatio: "16:9", resolution: "720p" })
      assert.deepStrictEqual(pngSize(bytesOf(hd.images[0])), { width: 1280, height: 720 })
      assert.strictEqual(hd.images[0]!.width, 1280)
    }))

  it.effect("returns exactly n images, each different, seeded seed+i", () =>
    Effect.gen(function*() {
      const result = yield* generate({ n: 3, seed: 7, size: "256x192" })
      assert.strictEqual(result.images.length, 3)
      assert.deepStrictEqual(result.images.map((i) => i.seed), [7, 8, 9])
      const [a, b, c] = result.images.map(bytesOf)
      assert.isFalse(same(a!, b!))
      assert.isFalse(same(b!, c!))
      assert.isFalse(same(a!, c!))
      // The call's n wins over the request's: the router splits large n into several calls.
      const split = yield* generate({ n: 16, seed: 7, size: "128x128" }, 2)
      assert.strictEqual(split.images.length, 2)
      // The seed wraps around at 2^32.
      const wrap = yield* generate({ n: 2, seed: 4_294_967_295, size: "128x128" })
      assert.deepStrictEqual(wrap.images.map((i) => i.seed), [4_294_967_295, 0])
    }))

  it.effect("encodes jpeg and webp", () =>
    Effect.gen(function*() {
      const jpeg = yield* generate({ outputFormat: "jpeg", size: "320x240" })
      const jpegBytes = Buffer.from(bytesOf(jpeg.images[0]))
      assert.deepStrictEqual([...jpegBytes.subarray(0, 3)], [0xff, 0xd8, 0xff])
      assert.strictEqual(jpeg.images[0]!.mediaType, "image/jpeg")
      const webp = yield* generate({ outputFormat: "webp", size: "320x240" })
      const webpBytes = Buffer.from(bytesOf(webp.images[0]))
      assert.strictEqual(webpBytes.subarray(0, 4).toString("latin1"), "RIFF")
      assert.strictEqual(webpBytes.subarray(8, 12).toString("latin1"), "WEBP")
      assert.strictEqual(webp.images[0]!.mediaType, "image/webp")
      const decoded = yield* pixels(webpBytes)
      assert.strictEqual(decoded.width, 320)
      assert.strictEqual(decoded.height, 240)
    }))

  it.effect("draws a picture, not a flat square", () =>
    Effect.gen(function*() {
      for (const p of [prompt, "a cat wearing a tiny hat", "a cabin in a snowy forest at night"]) {
        const result = yield* generate({ prompt: p, size: "320x240", seed: 3 })
        const { data } = yield* pixels(bytesOf(result.images[0]))
        const luma: Array<number> = []
        const colours = new Set<number>()
        for (let i = 0; i < data.length; i += 4) {
          luma.push(0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!)
          colours.add((data[i]! >> 3 << 10) | (data[i + 1]! >> 3 << 5) | (data[i + 2]! >> 3))
        }
        const mean = luma.reduce((a, b) => a + b, 0) / luma.length
        const sd = Math.sqrt(luma.reduce((a, b) => a + (b - mean) ** 2, 0) / luma.length)
        assert.isAbove(sd, 12, `${p}: luminance standard deviation ${sd.toFixed(1)}`)
        assert.isAbove(colours.size, 200, `${p}: ${colours.size} distinct colours`)
      }
    }))

  it.effect("draws the first input image as the background", () =>
    Effect.gen(function*() {
      const red = yield* solidPng("#e01010")
      const plain = yield* generate({ size: "320x240", seed: 5 })
      const edited = yield* generate({
        size: "320x240",
        seed: 5,
        images: [new ImageRequest.ImageBytes({ data: red, mediaType: "image/png" })]
      })
      assert.isFalse(same(bytesOf(plain.images[0]), bytesOf(edited.images[0])))
      assert.notStrictEqual(plain.requestId, edited.requestId)
      const { data, width } = yield* pixels(bytesOf(edited.images[0]))
      // Top centre, above the caption band: the red input shows through.
      const i = (20 * width + width / 2) * 4
      assert.isAbove(data[i]!, 150)
      assert.isBelow(data[i + 1]!, 60)
      assert.isBelow(data[i + 2]!, 60)
      // A data: URL needs no network and works the same.
      const viaDataUrl = yield* generate({
        size: "320x240",
        seed: 5,
        images: [new ImageRequest.ImageUrl({ url: `data:image/png;base64,${Buffer.from(red).toString("base64")}` })]
      })
      assert.isTrue(same(bytesOf(edited.images[0]), bytesOf(viaDataUrl.images[0])))
    }))

  it.effect("refuses URL inputs: it never touches the network", () =>
    Effect.gen(function*() {
      const error = yield* generate({
        images: [new ImageRequest.ImageUrl({ url: "https://example.com/cat.png" })]
      }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "InvalidRequest")
      if (error._tag === "InvalidRequest") {
        assert.strictEqual(error.field, "images.0")
        assert.include(error.detail, "cannot fetch URLs")
        assert.strictEqual(error.provider, "local")
      }
    }))

  it.effect("reports undecodable input bytes as InvalidRequest", () =>
    Effect.gen(function*() {
      const error = yield* generate({
        images: [new ImageRequest.ImageBytes({ data: new Uint8Array([1, 2, 3, 4]), mediaType: "image/png" })]
      }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "InvalidRequest")
      if (error._tag === "InvalidRequest") assert.strictEqual(error.field, "images.0")
    }))

  it.effect("checks the request against its catalog entry", () =>
    Effect.gen(function*() {
      const svg = yield* generate({ outputFormat: "svg" }).pipe(Effect.flip)
      assert.strictEqual(svg._tag, "UnsupportedCapability")
      const big = yield* generate({ size: "5000x5000" }).pipe(Effect.flip)
      assert.strictEqual(big._tag, "UnsupportedCapability")
      const tiny = yield* generate({ aspectRatio: "1:40" }).pipe(Effect.flip)
      assert.strictEqual(tiny._tag, "UnsupportedCapability")
      const mask = yield* generate({
        mask: new ImageRequest.ImageBytes({ data: new Uint8Array([1]), mediaType: "image/png" })
      }).pipe(Effect.flip)
      assert.strictEqual(mask._tag, "UnsupportedCapability")
      const tooMany = yield* generate({ size: "64x64" }, 17).pipe(Effect.flip)
      assert.strictEqual(tooMany._tag, "UnsupportedCapability")
    }))

  it.effect("can leave out the caption and the mark", () =>
    Effect.gen(function*() {
      const provider = yield* LocalProvider.make({ caption: false, mark: false })
      const bare = yield* provider.generate(callOf({ size: "320x240", seed: 9 }))
      const full = yield* generate({ size: "320x240", seed: 9 })
      assert.isFalse(same(bytesOf(bare.images[0]), bytesOf(full.images[0])))
    }))

  it.effect("renders 1024x1024 quickly", () =>
    Effect.gen(function*() {
      yield* generate({ size: "64x64" })
      const started = performance.now()
      yield* generate({ size: "1024x1024", seed: 11 })
      const elapsed = performance.now() - started
      // Typically 0.3 s; generous for busy CI machines.
      assert.isBelow(elapsed, 5_000)
    }))
})

/**
 * The `stability` provider: Stable Image Ultra, Core and Stable Diffusion 3.x (text-to-image and
 * image-to-image) and Stable Image inpainting, over Stability's v2beta multipart API.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Catalog from "@image-gen/core/Catalog"
import * as ImageError from "@image-gen/core/ImageError"
import * as ImageFiles from "@image-gen/core/ImageFiles"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { GeneratedImage } from "@image-gen/core/ImageResult"
import type { ProviderResult } from "@image-gen/core/ImageResult"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import catalogData from "./catalog.json" with { type: "json" }
import * as StabilityClient from "./StabilityClient.js"

/**
 * @since 0.1.0
 * @category Constants
 */
export const providerId = StabilityClient.providerId

/**
 * The catalog of the Stability provider, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(`@image-gen/stability: src/catalog.json does not match Catalog.CatalogFile: ${error.message}`)
  )
)

/**
 * The aspect ratios every generate endpoint accepts, with the ~1 MP size each gives on Ultra and SD3.
 *
 * @since 0.1.0
 * @category Constants
 */
export const aspectRatioSizes: Readonly<Record<string, string>> = {
  "21:9": "1536x640",
  "16:9": "1344x768",
  "3:2": "1216x832",
  "5:4": "1152x896",
  "1:1": "1024x1024",
  "4:5": "896x1152",
  "2:3": "832x1216",
  "9:16": "768x1344",
  "9:21": "640x1536"
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /**
   * What to do when Stability answers `finish-reason: CONTENT_FILTERED` (the output broke policy and was
   * blurred; it is billed). `"fail"` (default) fails with `ContentBlocked`; `"return"` returns the blurred
   * image.
   */
  readonly onContentFiltered?: "fail" | "return" | undefined
  /** `strength` sent with image-to-image when `providerOptions.strength` is absent. Default 0.5. */
  readonly defaultStrength?: number | undefined
}

/** Which endpoint a model id uses. */
type Route =
  | { readonly _tag: "Generate"; readonly path: string; readonly kind: "ultra" | "core" }
  | { readonly _tag: "Sd3"; readonly path: string }
  | { readonly _tag: "Inpaint"; readonly path: string }

const base = "/v2beta/stable-image"

/**
 * The endpoint of a model id: `stable-image-ultra`, `stable-image-core`, `stable-image-inpaint`, or any
 * `sd3*` id (sent as the sd3 endpoint's `model` field).
 *
 * @since 0.1.0
 * @category Routing
 */
export const routeOf = (model: string): Route | undefined => {
  switch (model) {
    case "stable-image-ultra":
    case "ultra":
      return { _tag: "Generate", path: `${base}/generate/ultra`, kind: "ultra" }
    case "stable-image-core":
    case "core":
      return { _tag: "Generate", path: `${base}/generate/core`, kind: "core" }
    case "stable-image-inpaint":
    case "inpaint":
      return { _tag: "Inpaint", path: `${base}/edit/inpaint` }
    default:
      return model.startsWith("sd3") ? { _tag: "Sd3", path: `${base}/generate/sd3` } : undefined
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

/** The Stability aspect ratio for a request's size or ratio, or a typed refusal. */
const aspectRatioOf = (
  request: ImageRequest.ImageRequest,
  model: string
): Effect.Effect<string | undefined, ImageError.UnsupportedCapability | ImageError.InvalidRequest> => {
  const ratios = Object.keys(aspectRatioSizes)
  if (request.resolution !== undefined && request.resolution !== "1K") {
    return Effect.fail(
      new ImageError.UnsupportedCapability({
        provider: providerId,
        model,
        capability: "resolution",
        requested: request.resolution,
        supported: ["1K"]
      })
    )
  }
  let fromSize: string | undefined
  if (request.size !== undefined) {
    fromSize = Object.entries(aspectRatioSizes).find(([, size]) => size === request.size)?.[0]
    if (fromSize === undefined) {
      // An exact ratio (1920x1080 is 16:9) is accepted too: Stability picks the pixel count.
      const { height, width } = ImageRequest.parseSize(request.size)
      const d = gcd(width, height)
      const ratio = `${width / d}:${height / d}`
      if (!ratios.includes(ratio)) {
        return Effect.fail(
          new ImageError.UnsupportedCapability({
            provider: providerId,
            model,
            capability: "size",
            requested: request.size,
            supported: Object.values(aspectRatioSizes)
          })
        )
      }
      fromSize = ratio
    }
  }
  if (request.aspectRatio !== undefined && !ratios.includes(request.aspectRatio)) {
    return Effect.fail(
      new ImageError.UnsupportedCapability({
        provider: providerId,
        model,
        capability: "aspect ratio",
        requested: request.aspectRatio,
        supported: ratios
      })
    )
  }
  if (fromSize !== undefined && request.aspectRatio !== undefined && fromSize !== request.aspectRatio) {
    return Effect.fail(
      new ImageError.InvalidRequest({
        provider: providerId,
        model,
        field: "size",
        detail: `${request.size} is ${fromSize}, which contradicts aspectRatio ${request.aspectRatio}`
      })
    )
  }
  return Effect.succeed(fromSize ?? request.aspectRatio)
}

/** Input image bytes: raw bytes as-is, `data:` URLs decoded, http(s) URLs downloaded. */
const blobOf = (
  image: ImageRequest.InputImage,
  name: string
): Effect.Effect<File, ImageError.DownloadFailed, HttpClient.HttpClient> =>
  (image._tag === "ImageBytes"
    ? Effect.succeed({ bytes: image.data, mediaType: image.mediaType, fileName: image.name })
    : Effect.map(
      ImageFiles.download(image.url, { provider: providerId }),
      (d) => ({ ...d, fileName: undefined as string | undefined })
    )).pipe(
      Effect.map(({ bytes, fileName, mediaType }) =>
        new File([bytes], fileName ?? `${name}.${ImageRequest.extensionOf(mediaType)}`, { type: mediaType })
      )
    )

const formValue = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined
  if (typeof value === "string") return value
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  return JSON.stringify(value)
}

const maxSeed = 4_294_967_294

/**
 * Builds the multipart form for a call, exactly as the endpoint expects it. Fails with a typed error
 * before any network call when the request cannot be expressed.
 *
 * @since 0.1.0
 * @category Mapping
 */
export const buildForm = (
  call: ImageProvider.ProviderCall,
  options: Options = {}
): Effect.Effect<
  { readonly path: string; readonly form: FormData },
  ImageError.ImageError,
  HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const { model, request } = call
    const route = routeOf(model)
    const refuse = (capability: string, requested: string, supported?: ReadonlyArray<string>) =>
      Effect.fail(
        new ImageError.UnsupportedCapability({
          provider: providerId,
          model,
          capability,
          requested,
          ...(supported === undefined ? {} : { supported })
        })
      )
    if (route === undefined) {
      return yield* Effect.fail(
        new ImageError.InvalidRequest({
          provider: providerId,
          model,
          field: "model",
          detail:
            "unknown Stability model; use stable-image-ultra, stable-image-core, stable-image-inpaint or an sd3* model id"
        })
      )
    }
    if (call.n !== 1) return yield* refuse("images per call", String(call.n), ["1"])
    if (request.quality !== undefined) return yield* refuse("quality", request.quality)
    if (request.seed !== undefined && request.seed > maxSeed) {
      return yield* Effect.fail(
        new ImageError.InvalidRequest({
          provider: providerId,
          model,
          field: "seed",
          detail: `must be at most ${maxSeed} for Stability`
        })
      )
    }
    const format = request.outputFormat
    const formats = route._tag === "Sd3" ? ["png", "jpeg"] : ["png", "jpeg", "webp"]
    if (format !== undefined && !formats.includes(format)) return yield* refuse("output format", format, formats)
    const images = request.images ?? []
    if (images.length > 1) return yield* refuse("input images", String(images.length), ["at most 1"])

    const form = new FormData()
    const set = (name: string, value: unknown) => {
      const text = formValue(value)
      if (text !== undefined) form.set(name, text)
    }
    set("prompt", request.prompt)
    set("negative_prompt", request.negativePrompt)
    set("seed", request.seed)
    set("output_format", format)

    const strength = () => request.providerOptions?.strength ?? options.defaultStrength ?? 0.5
    switch (route._tag) {
      case "Inpaint": {
        if (images.length === 0) return yield* refuse("input images", "0", ["1 image to inpaint"])
        if (request.size !== undefined || request.aspectRatio !== undefined) {
          return yield* refuse("size", request.size ?? request.aspectRatio ?? "", ["the input image's own size"])
        }
        form.set("image", yield* blobOf(images[0]!, "image"))
        if (request.mask !== undefined) form.set("mask", yield* blobOf(request.mask, "mask"))
        break
      }
      case "Generate":
      case "Sd3": {
        if (request.mask !== undefined) return yield* refuse("mask", "given")
        if (route._tag === "Generate" && route.kind === "core" && images.length > 0) {
          return yield* refuse("input images", String(images.length), ["none (use ultra or sd3 for image-to-image)"])
        }
        const ratio = yield* aspectRatioOf(request, model)
        if (images.length > 0) {
          if (route._tag === "Sd3" && ratio !== undefined) {
            return yield* refuse("aspect ratio with an input image", ratio, ["the input image's own ratio"])
          }
          form.set("image", yield* blobOf(images[0]!, "image"))
          set("strength", strength())
          if (route._tag === "Sd3") set("mode", "image-to-image")
        }
        set("aspect_ratio", ratio)
        if (route._tag === "Sd3") set("model", model)
        break
      }
    }
    for (const [key, value] of Object.entries(request.providerOptions ?? {})) {
      if (key === "strength" && !form.has("image")) continue
      set(key, value)
    }
    return { path: route.path, form }
  })

const perImagePrice = (call: ImageProvider.ProviderCall): number | undefined =>
  (call.entry ?? catalog.models.find((m) => m.id === call.model))?.price?.perImage

/**
 * Builds the provider service on a `StabilityClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, StabilityClient.StabilityClient | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* StabilityClient.StabilityClient
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const serverAddress = URL.canParse(client.apiUrl) ? new URL(client.apiUrl).host : undefined
    const generate = (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
      Effect.gen(function*() {
        const { form, path } = yield* buildForm(call, options).pipe(Effect.provide(context))
        const image = yield* client.postImage(path, form, { model: call.model })
        if (image.finishReason === "CONTENT_FILTERED" && (options.onContentFiltered ?? "fail") === "fail") {
          return yield* Effect.fail(
            new ImageError.ContentBlocked({
              provider: providerId,
              model: call.model,
              ...(image.requestId === undefined ? {} : { requestId: image.requestId }),
              reason: "finish reason CONTENT_FILTERED: the output broke policy and was blurred (billed)"
            })
          )
        }
        const ratio = call.request.size === undefined
          ? call.request.aspectRatio
          : Object.entries(aspectRatioSizes).find(([, s]) => s === call.request.size)?.[0]
        const known = routeOf(call.model)?._tag !== "Inpaint" && call.model !== "stable-image-core" &&
            call.request.images === undefined
          ? aspectRatioSizes[ratio ?? "1:1"]
          : undefined
        const dims = known === undefined ? {} : ImageRequest.parseSize(known)
        const price = perImagePrice(call)
        return {
          requestId: image.requestId,
          images: [
            new GeneratedImage({
              bytes: image.bytes,
              mediaType: image.mediaType,
              ...dims,
              ...(image.seed === undefined ? {} : { seed: image.seed })
            })
          ],
          ...(price === undefined ? {} : { costUsd: price, usage: { units: { credits: price * 100 } } }),
          raw: { finishReason: image.finishReason, seed: image.seed, path }
        } satisfies ProviderResult
      })
    return ImageProvider.make({
      id: providerId,
      telemetryName: "stability_ai",
      serverAddress,
      catalog,
      generate
    })
  })

/**
 * The provider as a layer of core's `ImageProvider`, with a client built from `options`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: StabilityClient.Options & Options
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options)).pipe(Layer.provide(StabilityClient.layer(options)))

/**
 * The provider with its key and base URL read from the environment: `STABILITY_API_KEY` (required) and
 * `STABILITY_BASE_URL` (default `https://api.stability.ai`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: StabilityClient.ConfigOptions & Options = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options)).pipe(Layer.provide(StabilityClient.layerConfig(options)))

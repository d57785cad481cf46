/**
 * The `ideogram` provider: Ideogram 3.0 generate, edit (image + mask) and remix (image + prompt). Ideogram
 * answers with URLs that expire, so the provider downloads every image at once: each result carries its
 * bytes and keeps the URL.
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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import catalogData from "./catalog.json" with { type: "json" }
import * as IdeogramClient from "./IdeogramClient.js"

/**
 * @since 0.1.0
 * @category Constants
 */
export const providerId = IdeogramClient.providerId

/**
 * The catalog of the Ideogram provider, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(`@image-gen/ideogram: src/catalog.json does not match Catalog.CatalogFile: ${error.message}`)
  )
)

/**
 * The `resolution` values Ideogram 3.0 accepts.
 *
 * @since 0.1.0
 * @category Constants
 */
export const resolutions: ReadonlyArray<string> = catalog.models[0]!.capabilities.sizes ?? []

/**
 * The aspect ratios Ideogram 3.0 accepts, as `W:H` (sent as `WxH`).
 *
 * @since 0.1.0
 * @category Constants
 */
export const aspectRatios: ReadonlyArray<string> = catalog.models[0]!.capabilities.aspectRatios ?? []

const speeds = { turbo: "TURBO", default: "DEFAULT", quality: "QUALITY", flash: "FLASH" } as const

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /**
   * What to do when some (not all) images fail Ideogram's output safety check. `"drop"` (default) returns
   * the safe ones and counts the others in `usage.units.unsafe_images`; `"fail"` fails with
   * `ContentBlocked`. When every image is unsafe the call always fails with `ContentBlocked`.
   */
  readonly onUnsafeImage?: "drop" | "fail" | undefined
  /** Per-try download timeout of the result URLs. Default 60 seconds. */
  readonly downloadTimeout?: Duration.DurationInput | undefined
}

const formValue = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined
  if (typeof value === "string") return value
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  return JSON.stringify(value)
}

const fileOf = (
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

/**
 * The endpoint path of a request: generate, edit (input image and mask) or remix (input image).
 *
 * @since 0.1.0
 * @category Mapping
 */
export const pathOf = (request: ImageRequest.ImageRequest): string =>
  (request.images?.length ?? 0) === 0
    ? "/v1/ideogram-v3/generate"
    : request.mask === undefined
    ? "/v1/ideogram-v3/remix"
    : "/v1/ideogram-v3/edit"

/**
 * The multipart form for a call, exactly as the endpoint expects it. Fails with a typed error, before any
 * network call, when the request cannot be expressed.
 *
 * @since 0.1.0
 * @category Mapping
 */
export const buildForm = (
  call: ImageProvider.ProviderCall
): Effect.Effect<{ readonly path: string; readonly form: FormData }, ImageError.ImageError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { model, request } = call
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
    const invalid = (field: string, detail: string) =>
      Effect.fail(new ImageError.InvalidRequest({ provider: providerId, model, field, detail }))
    const fixedSpeed = model.endsWith("-turbo") ? "TURBO" : model.endsWith("-quality") ? "QUALITY" : undefined
    if (!/^ideogram-v3(-turbo|-quality)?$/.test(model)) {
      return yield* invalid(
        "model",
        "unknown Ideogram model; use ideogram-v3, ideogram-v3-turbo or ideogram-v3-quality"
      )
    }
    if (call.n < 1 || call.n > 8) return yield* refuse("images per call", String(call.n), ["1 to 8"])
    let speed: string | undefined = fixedSpeed
    if (request.quality !== undefined) {
      const wanted = speeds[request.quality.toLowerCase() as keyof typeof speeds]
      if (fixedSpeed !== undefined || wanted === undefined) {
        return yield* refuse("quality", request.quality, fixedSpeed === undefined ? Object.keys(speeds) : [])
      }
      speed = wanted
    }
    if (request.seed !== undefined && request.seed > 2_147_483_647) {
      return yield* invalid("seed", "must be at most 2147483647 for Ideogram")
    }
    if (request.outputFormat !== undefined && request.outputFormat !== "png") {
      return yield* refuse("output format", request.outputFormat, ["png"])
    }
    if (request.resolution !== undefined && request.resolution !== "1K") {
      return yield* refuse("resolution", request.resolution, ["1K"])
    }
    if (request.size !== undefined && !resolutions.includes(request.size)) {
      return yield* refuse("size", request.size, resolutions)
    }
    if (request.aspectRatio !== undefined && !aspectRatios.includes(request.aspectRatio)) {
      return yield* refuse("aspect ratio", request.aspectRatio, aspectRatios)
    }
    if (request.size !== undefined && request.aspectRatio !== undefined) {
      const { height, width } = ImageRequest.parseSize(request.size)
      if (Math.abs(width / height - ImageRequest.parseAspectRatio(request.aspectRatio)) > 0.02) {
        return yield* invalid("size", `${request.size} contradicts aspectRatio ${request.aspectRatio}`)
      }
    }
    const images = request.images ?? []
    if (images.length > 1) return yield* refuse("input images", String(images.length), ["at most 1"])
    const path = pathOf(request)
    const edit = path.endsWith("/edit")
    if (request.mask !== undefined && images.length === 0) return yield* refuse("mask without an input image", "given")
    if (edit && (request.size !== undefined || request.aspectRatio !== undefined)) {
      return yield* refuse("size with a mask edit", request.size ?? request.aspectRatio ?? "", [
        "the input image's own size"
      ])
    }
    if (edit && request.negativePrompt !== undefined) return yield* refuse("negative prompt with a mask edit", "given")

    const form = new FormData()
    const set = (name: string, value: unknown) => {
      if (Array.isArray(value)) {
        for (const item of value) {
          const text = formValue(item)
          if (text !== undefined) form.append(name, text)
        }
        return
      }
      const text = formValue(value)
      if (text !== undefined) form.set(name, text)
    }
    set("prompt", request.prompt)
    set("num_images", call.n)
    set("seed", request.seed)
    set("rendering_speed", speed)
    if (!edit) set("negative_prompt", request.negativePrompt)
    // `resolution` and `aspect_ratio` cannot be combined: an exact size wins.
    if (request.size !== undefined) set("resolution", request.size)
    else if (request.aspectRatio !== undefined) set("aspect_ratio", request.aspectRatio.replace(":", "x"))
    if (images.length > 0) form.set("image", yield* fileOf(images[0]!, "image"))
    if (request.mask !== undefined) form.set("mask", yield* fileOf(request.mask, "mask"))
    for (const [key, value] of Object.entries(request.providerOptions ?? {})) set(key, value)
    return { path, form }
  })

const priceOf = (call: ImageProvider.ProviderCall): number | undefined => {
  const entry = call.entry ?? catalog.models.find((m) => m.id === call.model)
  const quality = call.request.quality?.toLowerCase()
  return (quality === undefined ? undefined : entry?.price?.byQuality?.[quality]) ?? entry?.price?.perImage
}

/**
 * Builds the provider service on an `IdeogramClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, IdeogramClient.IdeogramClient | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* IdeogramClient.IdeogramClient
    // The plain client (no Api-Key, no base URL) for input images and the expiring result URLs.
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const serverAddress = URL.canParse(client.apiUrl) ? new URL(client.apiUrl).host : undefined

    const generate = (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
      Effect.gen(function*() {
        const { form, path } = yield* buildForm(call)
        const { requestId, response } = yield* client.post(path, form, call.model)
        const where = {
          provider: providerId,
          model: call.model,
          ...(requestId === undefined ? {} : { requestId })
        }
        const safe = response.data.filter((d) => d.is_image_safe && typeof d.url === "string" && d.url !== "")
        const unsafe = response.data.length - safe.length
        if (response.data.length === 0) {
          return yield* Effect.fail(new ImageError.MalformedResponse({ ...where, detail: "the answer has no images" }))
        }
        if (safe.length === 0 || (unsafe > 0 && options.onUnsafeImage === "fail")) {
          return yield* Effect.fail(
            new ImageError.ContentBlocked({
              ...where,
              reason: `${unsafe} of ${response.data.length} images failed Ideogram's output safety check (billed)`
            })
          )
        }
        // Download at once: the URLs expire.
        const images = yield* Effect.forEach(safe, (item) =>
          ImageFiles.download(item.url!, {
            ...where,
            ...(options.downloadTimeout === undefined ? {} : { timeout: options.downloadTimeout })
          }).pipe(
            Effect.map(({ bytes, mediaType }) => {
              const size = item.resolution !== undefined && /^\d+x\d+$/.test(item.resolution)
                ? ImageRequest.parseSize(item.resolution)
                : {}
              return new GeneratedImage({
                bytes,
                url: item.url!,
                mediaType: mediaType === "application/octet-stream" ? "image/png" : mediaType,
                ...size,
                ...(item.seed === undefined ? {} : { seed: item.seed }),
                ...(item.prompt === undefined || item.prompt === call.request.prompt
                  ? {}
                  : { revisedPrompt: item.prompt })
              })
            })
          ), { concurrency: 4 }).pipe(Effect.provide(context))
        const price = priceOf(call)
        return {
          requestId,
          images,
          // Every image is billed, unsafe ones included.
          ...(price === undefined ? {} : { costUsd: price * response.data.length }),
          usage: { units: { images: response.data.length, unsafe_images: unsafe } },
          raw: response
        } satisfies ProviderResult
      }).pipe(Effect.provide(context))

    return ImageProvider.make({ id: providerId, serverAddress, catalog, generate })
  })

/**
 * The provider as a layer of core's `ImageProvider`, with a client built from `options`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: IdeogramClient.Options & Options
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options)).pipe(Layer.provide(IdeogramClient.layer(options)))

/**
 * The provider with its key and base URL read from the environment: `IDEOGRAM_API_KEY` (required) and
 * `IDEOGRAM_BASE_URL` (default `https://api.ideogram.ai`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: IdeogramClient.ConfigOptions & Options = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options)).pipe(Layer.provide(IdeogramClient.layerConfig(options)))

/**
 * The `recraft` provider: Recraft V4.1 / V4 / V3 raster and vector (SVG) models, text-to-image,
 * image-to-image and inpainting. Result URLs (kept about 24 hours) are downloaded at once, so every image
 * carries its bytes and its URL.
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
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import catalogData from "./catalog.json" with { type: "json" }
import * as RecraftClient from "./RecraftClient.js"

/**
 * @since 0.1.0
 * @category Constants
 */
export const providerId = RecraftClient.providerId

/**
 * The catalog of the Recraft provider, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(`@image-gen/recraft: src/catalog.json does not match Catalog.CatalogFile: ${error.message}`)
  )
)

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /**
   * `url` (default): Recraft answers with links, downloaded at once (the result keeps both). `b64_json`:
   * the bytes come inline.
   */
  readonly responseFormat?: "url" | "b64_json" | undefined
  /** `strength` for image-to-image when `providerOptions.strength` is absent. Default 0.5. */
  readonly defaultStrength?: number | undefined
}

/**
 * Whether a model id (or a V3 request's `style`) produces SVG.
 *
 * @since 0.1.0
 * @category Models
 */
export const isVector = (model: string, style?: unknown): boolean =>
  model.endsWith("_vector") || style === "vector_illustration" || style === "icon"

const isV4 = (model: string) => model.startsWith("recraftv4")

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
 * The media type of image bytes by their signature (PNG, JPEG, WebP, SVG).
 *
 * @since 0.1.0
 * @category Utils
 */
export const sniff = (bytes: Uint8Array, fallback: string): string => {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return "image/png"
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg"
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[8] === 0x57 && bytes[9] === 0x45) return "image/webp"
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart()
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml"
  return fallback
}

/**
 * A request as Recraft expects it: the endpoint and its JSON body or multipart form. Fails with a typed
 * error, before any network call, when the request cannot be expressed.
 *
 * @since 0.1.0
 * @category Mapping
 */
export const buildRequest = (
  call: ImageProvider.ProviderCall,
  options: Options = {}
): Effect.Effect<
  | { readonly _tag: "Json"; readonly path: string; readonly body: Record<string, unknown> }
  | { readonly _tag: "Form"; readonly path: string; readonly form: FormData },
  ImageError.ImageError,
  HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const { model, request } = call
    const extra = request.providerOptions ?? {}
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
    if (call.n < 1 || call.n > 6) return yield* refuse("images per call", String(call.n), ["1 to 6"])
    if (request.quality !== undefined) return yield* refuse("quality", request.quality)
    if (request.resolution !== undefined) return yield* refuse("resolution", request.resolution)
    const maxPrompt = isV4(model) ? 10_000 : 1_000
    if (request.prompt.length > maxPrompt) return yield* invalid("prompt", `must be at most ${maxPrompt} characters`)
    if (request.negativePrompt !== undefined && isV4(model)) return yield* refuse("negative prompt", "given")
    const vector = isVector(model, extra.style)
    const format = request.outputFormat
    if (format !== undefined) {
      if (vector && format !== "svg") return yield* refuse("output format", format, ["svg"])
      if (!vector && format !== "png" && format !== "webp") {
        return yield* refuse("output format", format, ["png", "webp"])
      }
    }
    if (request.size !== undefined && request.aspectRatio !== undefined) {
      const { height, width } = ImageRequest.parseSize(request.size)
      if (Math.abs(width / height - ImageRequest.parseAspectRatio(request.aspectRatio)) > 0.01) {
        return yield* invalid("size", `${request.size} contradicts aspectRatio ${request.aspectRatio}`)
      }
    }
    const responseFormat = options.responseFormat ?? "url"
    const images = request.images ?? []
    if (images.length > 1) return yield* refuse("input images", String(images.length), ["at most 1"])
    const common: Record<string, unknown> = {
      prompt: request.prompt,
      model,
      n: call.n,
      response_format: responseFormat,
      ...(request.negativePrompt === undefined ? {} : { negative_prompt: request.negativePrompt }),
      ...(request.seed === undefined ? {} : { random_seed: request.seed }),
      ...(format === undefined || format === "svg" ? {} : { image_format: format })
    }

    if (images.length === 0) {
      if (request.mask !== undefined) return yield* refuse("mask without an input image", "given")
      const size = request.size ?? request.aspectRatio
      return {
        _tag: "Json" as const,
        path: "/images/generations",
        body: { ...common, ...(size === undefined ? {} : { size }), ...extra }
      }
    }
    if (request.size !== undefined || request.aspectRatio !== undefined) {
      return yield* refuse("size with an input image", request.size ?? request.aspectRatio ?? "", [
        "the input image's own size"
      ])
    }
    const form = new FormData()
    const fields: Record<string, unknown> = request.mask === undefined
      ? { ...common, strength: extra.strength ?? options.defaultStrength ?? 0.5, ...extra }
      : { ...common, ...extra }
    for (const [key, value] of Object.entries(fields)) {
      const text = formValue(value)
      if (text !== undefined) form.set(key, text)
    }
    form.set("image", yield* fileOf(images[0]!, "image"))
    if (request.mask !== undefined) {
      form.set("mask", yield* fileOf(request.mask, "mask"))
      return { _tag: "Form" as const, path: "/images/inpaint", form }
    }
    return { _tag: "Form" as const, path: "/images/imageToImage", form }
  })

/**
 * Builds the provider service on a `RecraftClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, RecraftClient.RecraftClient | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* RecraftClient.RecraftClient
    // The plain client (no Recraft token, no base URL) for input images and result downloads.
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const serverAddress = URL.canParse(client.apiUrl) ? new URL(client.apiUrl).host : undefined

    const generate = (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
      Effect.gen(function*() {
        const built = yield* buildRequest(call, options)
        const { requestId: headerId, response } = built._tag === "Json"
          ? yield* client.generate(built.body, call.model)
          : yield* client.postForm(built.path, built.form, call.model)
        const requestId = headerId ?? response.data[0]?.image_id
        const vector = isVector(call.model, call.request.providerOptions?.style)
        const fallbackType = vector ? "image/svg+xml" : "image/webp"
        const size = call.request.size === undefined ? {} : ImageRequest.parseSize(call.request.size)
        if (response.data.length === 0) {
          return yield* Effect.fail(
            new ImageError.MalformedResponse({
              provider: providerId,
              model: call.model,
              ...(requestId === undefined ? {} : { requestId }),
              detail: "the answer has no images"
            })
          )
        }
        const images = yield* Effect.forEach(response.data, (item) =>
          Effect.gen(function*() {
            if (item.b64_json !== undefined) {
              const bytes = yield* Encoding.decodeBase64(item.b64_json).pipe(
                Effect.mapError(() =>
                  new ImageError.MalformedResponse({
                    provider: providerId,
                    model: call.model,
                    ...(requestId === undefined ? {} : { requestId }),
                    detail: "b64_json is not valid base64"
                  })
                )
              )
              return new GeneratedImage({
                bytes,
                mediaType: sniff(bytes, fallbackType),
                ...size,
                ...(item.revised_prompt ? { revisedPrompt: item.revised_prompt } : {})
              })
            }
            if (item.url === undefined) {
              return yield* Effect.fail(
                new ImageError.MalformedResponse({
                  provider: providerId,
                  model: call.model,
                  ...(requestId === undefined ? {} : { requestId }),
                  detail: `image ${item.image_id} has neither url nor b64_json`
                })
              )
            }
            const downloaded = yield* ImageFiles.download(item.url, {
              provider: providerId,
              ...(requestId === undefined ? {} : { requestId })
            }).pipe(Effect.provide(context))
            const mediaType = downloaded.mediaType === "application/octet-stream"
              ? sniff(downloaded.bytes, fallbackType)
              : downloaded.mediaType
            return new GeneratedImage({
              bytes: downloaded.bytes,
              url: item.url,
              mediaType,
              ...size,
              ...(item.revised_prompt ? { revisedPrompt: item.revised_prompt } : {})
            })
          }), { concurrency: 4 })
        const credits = response.credits
        return {
          requestId,
          images,
          ...(credits === undefined ? {} : { costUsd: credits / 1000, usage: { units: { credits } } }),
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
  options: RecraftClient.Options & Options
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options)).pipe(Layer.provide(RecraftClient.layer(options)))

/**
 * The provider with its token and base URL read from the environment: `RECRAFT_API_TOKEN` (required) and
 * `RECRAFT_BASE_URL` (default `https://external.api.recraft.ai/v1`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: RecraftClient.ConfigOptions & Options = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options)).pipe(Layer.provide(RecraftClient.layerConfig(options)))

/**
 * The `local` provider: renders images on this machine, with no network and no key. Each image is a
 * placeholder composed from the prompt (a landscape when the prompt names a time of day, water, land or a
 * few subjects, an abstract composition otherwise) with the prompt in a caption band. The same prompt,
 * seed, size and format always give the same bytes.
 *
 * @since 0.1.0
 */
import * as Catalog from "@image-gen/core/Catalog"
import { InvalidRequest, JobFailed, UnsupportedCapability } from "@image-gen/core/ImageError"
import type { ImageError } from "@image-gen/core/ImageError"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { GeneratedImage } from "@image-gen/core/ImageResult"
import type { ProviderResult } from "@image-gen/core/ImageResult"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import catalogData from "./catalog.json" with { type: "json" }
import * as Random from "./internal/random.js"
import * as LocalRenderer from "./LocalRenderer.js"

/**
 * The provider id.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "local"

/**
 * The catalog of the local provider, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(
      `@image-gen/local: src/catalog.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`
    )
  )
)

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Draws the prompt in a caption band at the bottom of each image. Default true. */
  readonly caption?: boolean | undefined
  /** Draws the small "image-gen · local" mark with the seed and size. Default true. */
  readonly mark?: boolean | undefined
  /** JPEG and WebP quality, 0 to 100. Default 90. */
  readonly quality?: number | undefined
}

const defaultModel = (): Catalog.ModelEntry =>
  catalog.models.find((m) => m.id === catalog.defaultModel) ?? catalog.models[0]!

const entryOf = (call: ImageProvider.ProviderCall): Catalog.CatalogModel =>
  call.entry ?? { ...(catalog.models.find((m) => m.id === call.model) ?? defaultModel()), provider: providerId }

const isRasterFormat = (format: ImageRequest.OutputFormat): format is LocalRenderer.Format =>
  format === "png" || format === "jpeg" || format === "webp"

/** The bytes of a `data:` URL, or `None` when it is not a base64 data URL. */
const dataUrlBytes = (url: string): Option.Option<Uint8Array> => {
  const match = /^data:[^,;]*(?:;[^,;]*)*;base64,(.*)$/s.exec(url)
  return match === null ? Option.none() : Option.some(new Uint8Array(Buffer.from(match[1]!, "base64")))
}

/**
 * The bytes of the first input image, used as the background. URLs other than `data:` URLs are refused:
 * the local provider never touches the network.
 */
const inputBytes = (
  request: ImageRequest.ImageRequest,
  model: string
): Effect.Effect<Option.Option<Uint8Array>, InvalidRequest> =>
  Effect.forEach(request.images ?? [], (image, i) => {
    if (image._tag === "ImageBytes") return Effect.succeed(image.data)
    return Option.match(dataUrlBytes(image.url), {
      onNone: () =>
        Effect.fail(
          new InvalidRequest({
            provider: providerId,
            model,
            field: `images.${i}`,
            detail: "the local provider cannot fetch URLs; pass a file"
          })
        ),
      onSome: Effect.succeed
    })
  }).pipe(Effect.map((all) => Option.fromNullable(all[0])))

const unsupported = (model: string, capability: string, requested: string, supported: ReadonlyArray<string>) =>
  new UnsupportedCapability({ provider: providerId, model, capability, requested, supported })

const generateWith = (options: Options) =>
(
  call: ImageProvider.ProviderCall
): Effect.Effect<ProviderResult, ImageError> =>
  Effect.gen(function*() {
    const { request } = call
    const entry = entryOf(call)
    const model = entry.id
    const caps = entry.capabilities
    yield* Catalog.validate({ provider: providerId, model, entry }, request)
    const { height, width } = ImageRequest.dimensions(request)
    const min = caps.minDimension ?? 1
    const max = caps.maxDimension ?? 4096
    if (Math.min(width, height) < min || Math.max(width, height) > max) {
      return yield* unsupported(model, "size", `${width}x${height}`, [`sides from ${min} to ${max}px`])
    }
    const n = call.n
    const perCall = caps.maxPerCall ?? caps.maxN ?? 16
    if (!Number.isInteger(n) || n < 0 || n > perCall) {
      return yield* unsupported(model, "n", String(n), [`0 to ${perCall} per call`])
    }
    const format = request.outputFormat ?? "png"
    if (!isRasterFormat(format)) return yield* unsupported(model, "output format", format, ["png", "jpeg", "webp"])

    const input = yield* inputBytes(request, model)
    const background = yield* Option.match(input, {
      onNone: () => Effect.succeed(undefined),
      onSome: (bytes) =>
        LocalRenderer.decodeImage(bytes).pipe(
          Effect.mapError((error): ImageError =>
            error.reason === "Decode"
              ? new InvalidRequest({ provider: providerId, model, field: "images.0", detail: error.detail })
              : new JobFailed({ provider: providerId, model, detail: error.detail, cause: error })
          )
        )
    })

    const baseSeed = request.seed ?? LocalRenderer.seedOf(request.prompt)
    const requestId = `local-${
      Random.hashHex(
        JSON.stringify([
          model,
          request.prompt,
          baseSeed,
          width,
          height,
          format,
          n,
          Option.match(input, { onNone: () => "", onSome: (bytes) => Random.hashBytes(bytes) }),
          options.caption ?? true,
          options.mark ?? true,
          options.quality ?? 90
        ])
      )
    }`
    const mediaType = ImageRequest.mediaTypeOf(format)
    const images = yield* Effect.forEach(
      Array.from({ length: n }, (_, i) => (baseSeed + i) >>> 0),
      (seed) =>
        LocalRenderer.render({
          prompt: request.prompt,
          seed,
          width,
          height,
          format,
          background,
          caption: options.caption,
          mark: options.mark,
          quality: options.quality
        }).pipe(Effect.map((bytes) => new GeneratedImage({ bytes, mediaType, width, height, seed }))),
      // Rasterising and encoding run on the thread pool; large images one at a time to bound memory.
      { concurrency: width * height > 2048 * 2048 ? 1 : 4 }
    ).pipe(
      Effect.mapError((error) =>
        new JobFailed({ provider: providerId, model, requestId, detail: error.detail, cause: error })
      )
    )
    return { requestId, images, costUsd: 0 } satisfies ProviderResult
  })

/**
 * Builds the local provider service.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<ImageProvider.Service> =>
  Effect.sync(() =>
    ImageProvider.make({
      id: providerId,
      catalog,
      generate: generateWith(options)
    })
  )

/**
 * The local provider as a layer of core's `ImageProvider`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<ImageProvider.ImageProvider> =>
  Layer.effect(ImageProvider.ImageProvider, make(options))

/**
 * The image-generation logic shared by the `google` and `google-studio` providers: maps an
 * `ImageRequest` to Gemini `generateContent` (generation and editing) or Imagen `:predict`, and the
 * answers (images, safety outcomes, usage, cost) back.
 *
 * Request mapping:
 * - `aspectRatio` → `imageConfig.aspectRatio` / `parameters.aspectRatio`; `resolution` (`1K`/`2K`/`4K`)
 *   → `imageConfig.imageSize` / `parameters.sampleImageSize`; a `size` (`WxH`) is converted to the
 *   nearest supported ratio (within 3%) and the resolution of its pixel count, or refused.
 * - `seed` → `generationConfig.seed` / `parameters.seed` (Imagen, Vertex only: also sends
 *   `addWatermark: false`, which Imagen requires for seeded output).
 * - `negativePrompt` → `parameters.negativePrompt` (Imagen on Vertex; Gemini has none and refuses it).
 * - `outputFormat` (`png`/`jpeg`) → `imageConfig.imageOutputOptions.mimeType` (Vertex) /
 *   `parameters.outputOptions.mimeType`. AI Studio Gemini cannot choose the format.
 * - `images` → `inlineData` parts after the prompt (URLs are downloaded first). Imagen refuses them.
 * - `n` → `parameters.sampleCount` (Imagen, up to 4 a call); Gemini returns one image a call (the router
 *   splits larger n).
 * - `providerOptions`: Gemini: merged into the request body (`generationConfig` and `imageConfig` merged
 *   one level deeper). Imagen: merged into `parameters`, except `labels` (top level) and `instance`
 *   (merged into the instance).
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as Catalog from "@image-gen/core/Catalog"
import * as ImageError from "@image-gen/core/ImageError"
import * as ImageFiles from "@image-gen/core/ImageFiles"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { GeneratedImage } from "@image-gen/core/ImageResult"
import type { ProviderResult, Usage } from "@image-gen/core/ImageResult"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import { GoogleClient } from "./GoogleClient.js"
import { imageSize } from "./internal/imageSize.js"
import * as Pricing from "./internal/pricing.js"
import * as Wire from "./internal/wire.js"

/**
 * Token prices, USD per one million tokens.
 *
 * @since 0.1.0
 * @category Models
 */
export type TokenPrice = Pricing.TokenPrice

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The provider id (`google`, `google-studio`). */
  readonly providerId: string
  readonly catalog: Catalog.CatalogFile
  /** Token prices per model id, merged over the built-in table; used to report the exact cost. */
  readonly pricing?: Readonly<Record<string, TokenPrice>> | undefined
  /** `generationConfig.responseModalities`. Default `["TEXT", "IMAGE"]`. */
  readonly responseModalities?: ReadonlyArray<string> | undefined
}

/**
 * Whether a model id is served by Imagen's `:predict` (rather than `generateContent`).
 *
 * @since 0.1.0
 * @category Utils
 */
export const isImagen = (model: string): boolean => /^(publishers\/google\/)?(models\/)?imagen-/.test(model)

const geminiRatios = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
const imagenRatios = ["1:1", "3:4", "4:3", "9:16", "16:9"]

/**
 * `finishReason`s that mean the safety system refused the image (any `promptFeedback.blockReason` does).
 *
 * @since 0.1.0
 * @category Constants
 */
export const safetyReasons: ReadonlySet<string> = new Set([
  "SAFETY",
  "IMAGE_SAFETY",
  "PROHIBITED_CONTENT",
  "IMAGE_PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
  "IMAGE_RECITATION",
  "MODEL_ARMOR",
  "JAILBREAK"
])

const asRecord = (u: unknown): Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? u as Record<string, unknown> : {}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

/**
 * Builds a provider service over the `GoogleClient` in context.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options
): Effect.Effect<ImageProvider.Service, never, GoogleClient | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* GoogleClient
    const http = yield* HttpClient.HttpClient
    const provider = options.providerId
    const pricing = { ...Pricing.defaults, ...options.pricing }
    const vertex = client.backend !== "GeminiApi"

    const entryOf = (call: ImageProvider.ProviderCall): Catalog.ModelEntry | undefined =>
      call.entry ?? options.catalog.models.find((m) => m.id === call.model)

    const unsupported = (model: string, capability: string, requested: string, supported: ReadonlyArray<string>) =>
      new ImageError.UnsupportedCapability({ provider, model, capability, requested, supported })

    /** aspect ratio and size from the request, checked against what the model accepts. */
    const shapeOf = (
      model: string,
      request: ImageRequest.ImageRequest,
      ratios: ReadonlyArray<string>,
      resolutions: ReadonlyArray<string>
    ): Effect.Effect<
      { readonly aspectRatio?: string; readonly imageSize?: string },
      ImageError.UnsupportedCapability | ImageError.InvalidRequest
    > =>
      Effect.gen(function*() {
        let aspectRatio = request.aspectRatio
        let resolution: string | undefined = request.resolution
        if (request.size !== undefined) {
          const { height, width } = ImageRequest.parseSize(request.size)
          const ranked = ratios
            .map((r) => ({ r, err: Math.abs(Math.log(width / height / ImageRequest.parseAspectRatio(r))) }))
            .sort((a, b) => a.err - b.err)
          const best = ranked[0]
          if (best === undefined || best.err > 0.03) {
            const g = gcd(width, height)
            return yield* unsupported(model, "size", `${request.size} (ratio ${width / g}:${height / g})`, [
              ...ratios.map((r) => `sizes with ratio ${r}`)
            ])
          }
          if (aspectRatio !== undefined && aspectRatio !== best.r) {
            return yield* new ImageError.InvalidRequest({
              provider,
              model,
              field: "size",
              detail: `${request.size} has ratio ${best.r}, which conflicts with aspectRatio ${aspectRatio}`
            })
          }
          aspectRatio = best.r
          if (resolution === undefined) {
            const mp = (width * height) / (1024 * 1024)
            resolution = mp <= 1.6 ? "1K" : mp <= 6 ? "2K" : "4K"
          }
        }
        if (aspectRatio !== undefined && !ratios.includes(aspectRatio)) {
          return yield* unsupported(model, "aspect ratio", aspectRatio, ratios)
        }
        if (resolution !== undefined && !resolutions.includes(resolution)) {
          return yield* unsupported(model, "resolution", resolution, resolutions)
        }
        return {
          ...(aspectRatio === undefined ? {} : { aspectRatio }),
          ...(resolution === undefined ? {} : { imageSize: resolution })
        }
      })

    const mimeOf = (model: string, format: ImageRequest.OutputFormat | undefined) => {
      if (format === undefined) return Effect.succeed(undefined)
      if (format === "png" || format === "jpeg") return Effect.succeed(ImageRequest.mediaTypeOf(format))
      return Effect.fail(unsupported(model, "output format", format, ["png", "jpeg"]))
    }

    const inputPart = (model: string) => (image: ImageRequest.InputImage, index: number) =>
      image._tag === "ImageBytes"
        ? Effect.succeed({ inlineData: { mimeType: image.mediaType, data: Encoding.encodeBase64(image.data) } })
        : ImageFiles.download(image.url, { provider }).pipe(
          Effect.provideService(HttpClient.HttpClient, http),
          Effect.map(({ bytes, mediaType }) => ({
            inlineData: { mimeType: mediaType, data: Encoding.encodeBase64(bytes) }
          })),
          Effect.mapError((e) =>
            new ImageError.InvalidRequest({ provider, model, field: `images.${index}`, detail: e.message })
          )
        )

    const toImage = (data: string, mimeType: string | undefined, seed: number | undefined) =>
      Either.match(Encoding.decodeBase64(data), {
        onLeft: () => undefined,
        onRight: (bytes) => {
          const dims = imageSize(bytes)
          return new GeneratedImage({
            bytes,
            mediaType: mimeType ?? "image/png",
            ...(dims === undefined ? {} : dims),
            ...(seed === undefined ? {} : { seed })
          })
        }
      })

    /** A 404 for a model the catalog marks deprecated or retired is the shutdown. */
    const retiredOn404 = (entry: Catalog.ModelEntry | undefined, model: string) => (error: ImageError.ImageError) =>
      error._tag === "InvalidRequest" && error.status === 404 && entry !== undefined &&
        entry.lifecycle.status !== "current"
        ? new ImageError.ModelRetired({
          provider,
          model,
          ...(entry.lifecycle.date === undefined ? {} : { retiredOn: entry.lifecycle.date }),
          ...(entry.lifecycle.replacement === undefined ? {} : { replacement: entry.lifecycle.replacement })
        })
        : error

    const gemini = (call: ImageProvider.ProviderCall, model: string, entry: Catalog.ModelEntry | undefined) =>
      Effect.gen(function*() {
        const { request } = call
        const caps = entry?.capabilities
        if (request.negativePrompt !== undefined) {
          return yield* unsupported(model, "negative prompt", JSON.stringify(request.negativePrompt.slice(0, 40)), [])
        }
        if (request.mask !== undefined) return yield* unsupported(model, "mask", "given", [])
        if (request.quality !== undefined) return yield* unsupported(model, "quality", request.quality, [])
        if (call.n !== 1) return yield* unsupported(model, "n per call", String(call.n), ["1"])
        if (request.outputFormat !== undefined && !vertex) {
          return yield* unsupported(model, "output format", request.outputFormat, [])
        }
        const shape = yield* shapeOf(
          model,
          request,
          caps?.aspectRatios ?? (model.startsWith("gemini-3.1-flash")
            ? [...geminiRatios, "1:4", "4:1", "1:8", "8:1"]
            : geminiRatios),
          caps?.resolutions ?? (model.startsWith("gemini-2") ? ["1K"] : ["1K", "2K", "4K"])
        )
        const mimeType = yield* mimeOf(model, request.outputFormat)
        const images = yield* Effect.forEach(request.images ?? [], inputPart(model))
        const po = asRecord(request.providerOptions)
        const { generationConfig: poGen, imageConfig: poImage, ...poRest } = po
        // Gemini 2.x image models have one size (1K); whether they accept imageSize is UNCONFIRMED.
        const sendSize = shape.imageSize !== undefined && !(model.startsWith("gemini-2") && shape.imageSize === "1K")
        const imageConfig = {
          ...(shape.aspectRatio === undefined ? {} : { aspectRatio: shape.aspectRatio }),
          ...(sendSize ? { imageSize: shape.imageSize } : {}),
          ...(mimeType === undefined ? {} : { imageOutputOptions: { mimeType } }),
          ...asRecord(asRecord(poGen).imageConfig),
          ...asRecord(poImage)
        }
        const body = {
          contents: [{ role: "user", parts: [{ text: request.prompt }, ...images] }],
          ...poRest,
          generationConfig: {
            responseModalities: options.responseModalities ?? ["TEXT", "IMAGE"],
            ...(request.seed === undefined ? {} : { seed: request.seed }),
            ...asRecord(poGen),
            ...(Object.keys(imageConfig).length === 0 ? {} : { imageConfig })
          }
        }
        const { json, response } = yield* client.generateContent(model, body).pipe(
          Effect.mapError(retiredOn404(entry, model))
        )
        const requestId = response.responseId
        const origin = { provider, model, ...(requestId === undefined ? {} : { requestId }) }
        const block = response.promptFeedback?.blockReason
        if (block !== undefined) {
          const message = response.promptFeedback?.blockReasonMessage
          return yield* new ImageError.ContentBlocked({
            ...origin,
            reason: message === undefined ? `prompt blocked (${block})` : `prompt blocked (${block}): ${message}`
          })
        }
        const candidates = response.candidates ?? []
        const generated = candidates.flatMap((candidate) => {
          const parts = (candidate.content?.parts ?? []).filter((p) =>
            p.thought !== true && p.inlineData !== undefined &&
            (p.inlineData.mimeType === undefined || p.inlineData.mimeType.startsWith("image/"))
          )
          const last = parts[parts.length - 1]?.inlineData
          const image = last === undefined ? undefined : toImage(last.data, last.mimeType, request.seed)
          return image === undefined ? [] : [image]
        })
        if (generated.length === 0) {
          const candidate = candidates[0]
          const finish = candidate?.finishReason ?? "no candidates"
          const said = (candidate?.content?.parts ?? []).flatMap((p) => (p.text === undefined ? [] : [p.text])).join(
            " "
          )
            .trim()
          const message = candidate?.finishMessage ?? (said === "" ? undefined : said.slice(0, 300))
          if (safetyReasons.has(finish)) {
            return yield* new ImageError.ContentBlocked({
              ...origin,
              reason: message === undefined ? `image blocked (${finish})` : `image blocked (${finish}): ${message}`
            })
          }
          return yield* new ImageError.JobFailed({
            ...origin,
            detail: `the model returned no image (finishReason ${finish})${message === undefined ? "" : `: ${message}`}`
          })
        }
        const usage = response.usageMetadata
        const costUsd = Pricing.costOf(Pricing.priceOf(pricing, model), usage)
        return {
          ...(requestId === undefined ? {} : { requestId }),
          images: generated,
          ...(usage === undefined ? {} : { usage: usageOf(usage) }),
          ...(costUsd === undefined ? {} : { costUsd }),
          raw: Wire.stripPayloads(json)
        } satisfies ProviderResult
      })

    const imagen = (call: ImageProvider.ProviderCall, model: string, entry: Catalog.ModelEntry | undefined) =>
      Effect.gen(function*() {
        const { request } = call
        const caps = entry?.capabilities
        if ((request.images?.length ?? 0) > 0) {
          return yield* unsupported(model, "input images", String(request.images!.length), [])
        }
        if (request.mask !== undefined) return yield* unsupported(model, "mask", "given", [])
        if (request.quality !== undefined) return yield* unsupported(model, "quality", request.quality, [])
        const perCall = caps?.maxPerCall ?? 4
        if (call.n < 1 || call.n > perCall) {
          return yield* unsupported(model, "n per call", String(call.n), [`1 to ${perCall}`])
        }
        if (!vertex && request.seed !== undefined) {
          return yield* unsupported(model, "seed", String(request.seed), ["Vertex AI only (the google provider)"])
        }
        if (!vertex && request.negativePrompt !== undefined) {
          return yield* unsupported(model, "negative prompt", "given", ["Vertex AI only (the google provider)"])
        }
        const shape = yield* shapeOf(
          model,
          request,
          caps?.aspectRatios ?? imagenRatios,
          caps?.resolutions ?? ["1K", "2K"]
        )
        const mimeType = yield* mimeOf(model, request.outputFormat)
        const { instance, labels, ...poParameters } = asRecord(request.providerOptions)
        const body = {
          instances: [{ prompt: request.prompt, ...asRecord(instance) }],
          parameters: {
            sampleCount: call.n,
            ...(shape.aspectRatio === undefined ? {} : { aspectRatio: shape.aspectRatio }),
            ...(shape.imageSize === undefined ? {} : { sampleImageSize: shape.imageSize }),
            ...(request.seed === undefined ? {} : { seed: request.seed, addWatermark: false }),
            ...(request.negativePrompt === undefined ? {} : { negativePrompt: request.negativePrompt }),
            ...(mimeType === undefined ? {} : { outputOptions: { mimeType } }),
            includeRaiReason: true,
            ...poParameters
          },
          ...(labels === undefined ? {} : { labels })
        }
        const { json, response } = yield* client.predict(model, body).pipe(
          Effect.mapError(retiredOn404(entry, model))
        )
        const predictions = (response.predictions ?? []).filter((p) => p.contentType === undefined)
        const seed = call.n === 1 ? request.seed : undefined
        const images = predictions.flatMap((p) => {
          const image = p.bytesBase64Encoded === undefined
            ? undefined
            : toImage(p.bytesBase64Encoded, p.mimeType, seed)
          if (image === undefined) return []
          return [p.prompt === undefined ? image : new GeneratedImage({ ...image, revisedPrompt: p.prompt })]
        })
        if (images.length === 0) {
          const reason = predictions.find((p) => p.raiFilteredReason !== undefined)?.raiFilteredReason
          return yield* new ImageError.ContentBlocked({
            provider,
            model,
            reason: reason ?? "every image was filtered out by Responsible AI filters"
          })
        }
        const perImage = entry?.price?.perImage
        return {
          images,
          ...(perImage === undefined ? {} : { costUsd: Math.round(perImage * images.length * 1e6) / 1e6 }),
          usage: { units: { images: images.length } },
          raw: Wire.stripPayloads(json)
        } satisfies ProviderResult
      })

    return ImageProvider.make({
      id: provider,
      telemetryName: vertex ? "gcp.vertex_ai" : "gcp.gemini",
      serverAddress: client.serverAddress,
      catalog: options.catalog,
      generate: (call) => {
        const model = call.model.replace(/^(publishers\/google\/)?models\//, "")
        const entry = entryOf({ ...call, model })
        return isImagen(model) ? imagen(call, model, entry) : gemini(call, model, entry)
      }
    })
  })

const usageOf = (usage: Wire.UsageMetadata): Usage => ({
  ...(usage.promptTokenCount === undefined ? {} : { inputTokens: usage.promptTokenCount }),
  ...(usage.candidatesTokenCount === undefined && usage.thoughtsTokenCount === undefined
    ? {}
    : { outputTokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0) }),
  ...(usage.totalTokenCount === undefined ? {} : { totalTokens: usage.totalTokenCount })
})

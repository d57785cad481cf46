import * as Catalog from "@image-gen/core/Catalog"
import * as ImageError from "@image-gen/core/ImageError"
import * as ImageFiles from "@image-gen/core/ImageFiles"
import type * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { GeneratedImage } from "@image-gen/core/ImageResult"
import type { ProviderResult, Usage } from "@image-gen/core/ImageResult"
import * as Progress from "@image-gen/core/Progress"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Stream from "effect/Stream"
import type * as OpenAiClient from "../OpenAiClient.js"

/** USD per 1M tokens. */
export interface TokenPrices {
  readonly textInput: number
  readonly imageInput: number
  readonly imageOutput: number
  /** Text output tokens (reasoning models); default `imageOutput`. */
  readonly textOutput?: number | undefined
}

export type StreamEvent = Data.TaggedEnum<{
  PartialImage: { readonly index: number; readonly image: GeneratedImage; readonly requestId: string | undefined }
  Completed: {
    readonly image: GeneratedImage
    readonly usage: Usage | undefined
    readonly costUsd: number | undefined
    readonly requestId: string | undefined
  }
}>

export const StreamEvent = Data.taggedEnum<StreamEvent>()

export interface ServiceConfig {
  readonly id: string
  readonly catalog: Catalog.CatalogFile
  readonly client: OpenAiClient.Service
  readonly tokenPrices: Readonly<Record<string, TokenPrices>>
}

type Family = "gpt-image-2" | "gpt-image" | "dall-e-3" | "dall-e-2" | "other"

const familyOf = (model: string): Family =>
  model.startsWith("gpt-image-2")
    ? "gpt-image-2"
    : model.startsWith("gpt-image") || model.startsWith("chatgpt-image")
    ? "gpt-image"
    : model.startsWith("dall-e-3")
    ? "dall-e-3"
    : model.startsWith("dall-e-2")
    ? "dall-e-2"
    : "other"

/** The request as it goes on the wire. */
export interface Wire {
  readonly endpoint: "generations" | "edits"
  /** JSON body of generations, text fields of a multipart edit, or the JSON edit body. */
  readonly fields: Record<string, unknown>
  readonly edit: OpenAiClient.EditBody | undefined
  readonly streaming: boolean
  /** The output format asked for, for the media type of the answer. */
  readonly format: string | undefined
}

const reserved = new Set(["model", "prompt", "n", "image", "image[]", "images", "mask"])

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

const gptImage2MaxPixels = 3840 * 2160

const sizeFixed: Record<Exclude<Family, "gpt-image-2" | "other">, Record<string, string>> = {
  "gpt-image": { "1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536" },
  "dall-e-3": { "1:1": "1024x1024", "7:4": "1792x1024", "4:7": "1024x1792" },
  "dall-e-2": { "1:1": "1024x1024" }
}

const longEdge = (resolution: ImageRequest.Resolution | undefined): number => {
  switch (resolution) {
    case "2K":
      return 2048
    case "4K":
      return 3840
    case "720p":
      return 1280
    case "1080p":
      return 1920
    default:
      return 1024
  }
}

const round16 = (x: number) => Math.max(16, Math.round(x / 16) * 16)

/** The `size` to send, converted from aspect ratio and resolution when no explicit size was asked for. */
const sizeOf = (
  provider: string,
  model: string,
  family: Family,
  request: ImageRequest.ImageRequest
): Effect.Effect<string | undefined, ImageError.ImageError> => {
  const unsupported = (capability: string, requested: string, supported: ReadonlyArray<string>) =>
    Effect.fail(new ImageError.UnsupportedCapability({ provider, model, capability, requested, supported }))
  if (request.size === undefined && request.aspectRatio === undefined && request.resolution === undefined) {
    return Effect.succeed(undefined)
  }
  if (family === "gpt-image-2") {
    let size = request.size
    if (size === undefined) {
      const ratio = request.aspectRatio === undefined ? 1 : ImageRequest.parseAspectRatio(request.aspectRatio)
      const edge = longEdge(request.resolution)
      let w = ratio >= 1 ? edge : edge * ratio
      let h = ratio >= 1 ? edge / ratio : edge
      // Stay inside the pixel budget (3840x2160) by scaling both sides down.
      const scale = Math.min(1, Math.sqrt(gptImage2MaxPixels / (w * h)))
      w = Math.floor((w * scale) / 16) * 16
      h = Math.floor((h * scale) / 16) * 16
      size = `${Math.max(16, Math.min(round16(w), 3840))}x${Math.max(16, Math.min(round16(h), 3840))}`
    }
    const { height, width } = ImageRequest.parseSize(size)
    const rules = ["both sides multiples of 16", "aspect ratio between 1:3 and 3:1", "at most 3840x2160 pixels"]
    if (width % 16 !== 0 || height % 16 !== 0) return unsupported("size", size, rules)
    if (Math.max(width, height) / Math.min(width, height) > 3) return unsupported("size", size, rules)
    if (width * height > gptImage2MaxPixels || Math.max(width, height) > 3840) return unsupported("size", size, rules)
    return Effect.succeed(size)
  }
  if (request.size !== undefined) return Effect.succeed(request.size)
  if (family === "other") {
    const { height, width } = ImageRequest.dimensions(request)
    return Effect.succeed(`${width}x${height}`)
  }
  const table = sizeFixed[family]
  if (request.resolution !== undefined && request.resolution !== "1K") {
    return unsupported("resolution", request.resolution, ["1K"])
  }
  const ratio = request.aspectRatio ?? "1:1"
  const size = table[ratio]
  return size === undefined ? unsupported("aspect ratio", ratio, Object.keys(table)) : Effect.succeed(size)
}

const bytesOfImage = (
  provider: string,
  model: string,
  image: ImageRequest.InputImage,
  field: string
): Effect.Effect<{ data: Uint8Array; mediaType: string } | undefined, ImageError.ImageError> => {
  if (image._tag === "ImageBytes") return Effect.succeed({ data: image.data, mediaType: image.mediaType })
  if (!image.url.startsWith("data:")) return Effect.succeed(undefined)
  return ImageFiles.decodeDataUrl(image.url).pipe(
    Effect.map(({ bytes, mediaType }) => ({ data: bytes, mediaType })),
    Effect.mapError(() => new ImageError.InvalidRequest({ provider, model, field, detail: "is not a valid data URL" }))
  )
}

const extOf = (mediaType: string) => ImageRequest.extensionOf(mediaType)

const dataUrlOf = (image: ImageRequest.InputImage): string =>
  image._tag === "ImageUrl" ? image.url : `data:${image.mediaType};base64,${Encoding.encodeBase64(image.data)}`

const checkOption = (
  provider: string,
  model: string,
  key: string,
  value: unknown
): Effect.Effect<void, ImageError.InvalidRequest> => {
  const bad = (detail: string) =>
    Effect.fail(new ImageError.InvalidRequest({ provider, model, field: `providerOptions.${key}`, detail }))
  const intIn = (lo: number, hi: number) =>
    typeof value === "number" && Number.isInteger(value) && value >= lo && value <= hi
      ? Effect.void
      : bad(`must be an integer from ${lo} to ${hi}`)
  const oneOf = (...allowed: ReadonlyArray<string>) =>
    typeof value === "string" && allowed.includes(value) ? Effect.void : bad(`must be one of ${allowed.join(", ")}`)
  switch (key) {
    case "partial_images":
      return intIn(0, 3)
    case "output_compression":
      return intIn(0, 100)
    case "background":
      return oneOf("auto", "transparent", "opaque")
    case "moderation":
      return oneOf("auto", "low")
    case "input_fidelity":
      return oneOf("high", "low")
    case "stream":
      return typeof value === "boolean" ? Effect.void : bad("must be true or false")
    default:
      return Effect.void
  }
}

/** Maps an `ImageRequest` to the Images API request, exactly. */
export const toWire = (
  provider: string,
  call: Pick<ImageProvider.ProviderCall, "request" | "model" | "n">,
  forceStream = false
): Effect.Effect<Wire, ImageError.ImageError> =>
  Effect.gen(function*() {
    const { model, request } = call
    const family = familyOf(model)
    const unsupported = (capability: string, requested: string, supported?: ReadonlyArray<string>) =>
      new ImageError.UnsupportedCapability({
        provider,
        model,
        capability,
        requested,
        ...(supported === undefined ? {} : { supported })
      })
    if (request.seed !== undefined) {
      return yield* unsupported("seed", String(request.seed), [
        "none (pass providerOptions.seed to servers that take one)"
      ])
    }
    if (request.negativePrompt !== undefined) {
      return yield* unsupported("negative prompt", JSON.stringify(request.negativePrompt.slice(0, 40)), [
        "none (pass providerOptions.negative_prompt to servers that take one)"
      ])
    }
    const fields: Record<string, unknown> = { model, prompt: request.prompt, n: call.n }
    const size = yield* sizeOf(provider, model, family, request)
    if (size !== undefined) fields.size = size
    if (request.quality !== undefined) fields.quality = request.quality
    if (request.outputFormat !== undefined) {
      if (request.outputFormat !== "png" && request.outputFormat !== "jpeg" && request.outputFormat !== "webp") {
        return yield* unsupported("output format", request.outputFormat, ["png", "jpeg", "webp"])
      }
      if (family === "dall-e-2" || family === "dall-e-3") {
        if (request.outputFormat !== "png") return yield* unsupported("output format", request.outputFormat, ["png"])
      } else {
        fields.output_format = request.outputFormat
      }
    }
    let streaming = forceStream
    for (const [rawKey, value] of Object.entries(request.providerOptions ?? {})) {
      const key = snake(rawKey)
      if (reserved.has(key)) {
        return yield* new ImageError.InvalidRequest({
          provider,
          model,
          field: `providerOptions.${rawKey}`,
          detail: "is set from the request itself (model, prompt, n, images, mask)"
        })
      }
      if (value === undefined || value === null) continue
      yield* checkOption(provider, model, key, value)
      if (key === "stream") {
        streaming = streaming || value === true
        continue
      }
      if (key === "partial_images" && typeof value === "number" && value > 0) streaming = true
      fields[key] = value
    }
    if (forceStream && fields.partial_images === undefined) fields.partial_images = 2
    const format = typeof fields.output_format === "string" ? fields.output_format : undefined

    const images = request.images ?? []
    if (images.length === 0) {
      if (request.mask !== undefined) {
        return yield* new ImageError.InvalidRequest({
          provider,
          model,
          field: "mask",
          detail: "needs an input image to apply to"
        })
      }
      return { endpoint: "generations", fields, edit: undefined, streaming, format }
    }
    const inputs = yield* Effect.forEach(images, (image, i) => bytesOfImage(provider, model, image, `images.${i}`))
    const mask = request.mask === undefined
      ? undefined
      : yield* bytesOfImage(provider, model, request.mask, "mask")
    const allBytes = inputs.every((x) => x !== undefined) && (request.mask === undefined || mask !== undefined)
    if (!allBytes) {
      // http(s) URLs: the JSON form of edits (GPT image models) takes them as `image_url`.
      const body: Record<string, unknown> = {
        ...fields,
        images: images.map((image) => ({ image_url: dataUrlOf(image) })),
        ...(request.mask === undefined ? {} : { mask: { image_url: dataUrlOf(request.mask) } })
      }
      return { endpoint: "edits", fields: body, edit: { _tag: "Json", body }, streaming, format }
    }
    const parts = inputs.map((input, i): OpenAiClient.FilePart => {
      const source = images[i]!
      const name = source._tag === "ImageBytes" && source.name !== undefined
        ? source.name
        : `image-${i + 1}.${extOf(input!.mediaType)}`
      return { data: input!.data, mediaType: input!.mediaType, name }
    })
    return {
      endpoint: "edits",
      fields,
      edit: {
        _tag: "Multipart",
        fields,
        images: parts,
        ...(mask === undefined ? {} : { mask: { data: mask.data, mediaType: mask.mediaType, name: "mask.png" } })
      },
      streaming,
      format
    }
  })

const mediaTypeOf = (format: string | null | undefined, fallback: string | undefined) => {
  const f = format ?? fallback ?? "png"
  return f === "jpeg" || f === "jpg" ? "image/jpeg" : f === "webp" ? "image/webp" : "image/png"
}

const sizeFields = (size: string | null | undefined, fallback: unknown) => {
  const s = typeof size === "string" && /^\d+x\d+$/.test(size)
    ? size
    : typeof fallback === "string" && /^\d+x\d+$/.test(fallback)
    ? fallback
    : undefined
  if (s === undefined) return {}
  const { height, width } = ImageRequest.parseSize(s)
  return { width, height }
}

const decodeB64 = (provider: string, model: string, b64: string) =>
  Either.match(Encoding.decodeBase64(b64), {
    onLeft: () =>
      Effect.fail(new ImageError.MalformedResponse({ provider, model, detail: "b64_json is not valid base64" })),
    onRight: (bytes) => Effect.succeed(bytes)
  })

const usageOf = (usage: OpenAiClient.ImageUsage | null | undefined): Usage | undefined => {
  if (usage === undefined || usage === null) return undefined
  const units: Record<string, number> = {}
  const put = (key: string, value: number | null | undefined) => {
    if (typeof value === "number") units[key] = value
  }
  put("input_text_tokens", usage.input_tokens_details?.text_tokens)
  put("input_image_tokens", usage.input_tokens_details?.image_tokens)
  put("output_text_tokens", usage.output_tokens_details?.text_tokens)
  put("output_image_tokens", usage.output_tokens_details?.image_tokens)
  return {
    ...(typeof usage.input_tokens === "number" ? { inputTokens: usage.input_tokens } : {}),
    ...(typeof usage.output_tokens === "number" ? { outputTokens: usage.output_tokens } : {}),
    ...(typeof usage.total_tokens === "number" ? { totalTokens: usage.total_tokens } : {}),
    ...(Object.keys(units).length === 0 ? {} : { units })
  }
}

/** Cost from usage tokens at the given per-1M prices. */
const tokenCost = (usage: OpenAiClient.ImageUsage, prices: TokenPrices): number => {
  const input = usage.input_tokens ?? 0
  const inputImage = usage.input_tokens_details?.image_tokens ?? 0
  const inputText = usage.input_tokens_details?.text_tokens ?? input - inputImage
  const output = usage.output_tokens ?? 0
  const outputText = usage.output_tokens_details?.text_tokens ?? 0
  const outputImage = usage.output_tokens_details?.image_tokens ?? output - outputText
  return (
    inputText * prices.textInput +
    inputImage * prices.imageInput +
    outputImage * prices.imageOutput +
    outputText * (prices.textOutput ?? prices.imageOutput)
  ) / 1_000_000
}

/**
 * Cost from the catalog price, using the quality and size the API reports (so `auto` is priced as what
 * was actually made). GPT image prices are for 1024x1024 and scale with the output area.
 */
const catalogCost = (
  entry: Catalog.ModelEntry | undefined,
  family: Family,
  quality: string | undefined,
  size: string | undefined,
  count: number
): number | undefined => {
  const price = entry?.price
  if (price === undefined || count === 0) return undefined
  const byQuality = quality === undefined ? undefined : price.byQuality?.[quality]
  if (byQuality !== undefined) {
    const scale = (family === "gpt-image" || family === "gpt-image-2") && size !== undefined && /^\d+x\d+$/.test(size)
      ? (() => {
        const { height, width } = ImageRequest.parseSize(size)
        return (width * height) / (1024 * 1024)
      })()
      : 1
    return round(byQuality * scale * count)
  }
  const bySize = size === undefined ? undefined : price.bySize?.[size]
  if (bySize !== undefined) return round(bySize * count)
  return price.perImage === undefined ? undefined : round(price.perImage * count)
}

const round = (x: number) => Math.round(x * 1e6) / 1e6

const costOf = (
  config: ServiceConfig,
  model: string,
  entry: Catalog.ModelEntry | undefined,
  usage: OpenAiClient.ImageUsage | null | undefined,
  quality: string | undefined,
  size: string | undefined,
  count: number
): number | undefined => {
  const prices = config.tokenPrices[model]
  if (prices !== undefined && usage !== undefined && usage !== null) return round(tokenCost(usage, prices))
  return catalogCost(entry, familyOf(model), quality, size, count)
}

const entryOf = (config: ServiceConfig, call: Pick<ImageProvider.ProviderCall, "model" | "entry">) =>
  call.entry ?? config.catalog.models.find((m) => m.id === call.model)

/** Strips base64 payloads from the raw response kept on the result. */
const rawOf = (response: OpenAiClient.ImagesResponse) => ({
  ...response,
  data: response.data.map((d) => ({
    ...d,
    ...(typeof d.b64_json === "string" ? { b64_json: `<${Math.floor((d.b64_json.length * 3) / 4)} bytes>` } : {})
  }))
})

const withRetiredInfo = (entry: Catalog.ModelEntry | undefined) => (error: ImageError.ImageError) => {
  if (error._tag !== "ModelRetired" || entry === undefined) return error
  const lifecycle = entry.lifecycle
  return new ImageError.ModelRetired({
    provider: error.provider,
    model: error.model,
    ...(lifecycle.date === undefined ? {} : { retiredOn: lifecycle.date }),
    ...(lifecycle.replacement === undefined ? {} : { replacement: lifecycle.replacement })
  })
}

const imageOf = (
  provider: string,
  model: string,
  b64: string | null | undefined,
  url: string | null | undefined,
  format: string | null | undefined,
  wire: Wire,
  size: string | null | undefined,
  revisedPrompt: string | null | undefined
): Effect.Effect<GeneratedImage, ImageError.ImageError> =>
  Effect.gen(function*() {
    const bytes = typeof b64 === "string" && b64 !== "" ? yield* decodeB64(provider, model, b64) : undefined
    if (bytes === undefined && (typeof url !== "string" || url === "")) {
      return yield* new ImageError.MalformedResponse({
        provider,
        model,
        detail: "an image has neither b64_json nor url"
      })
    }
    return new GeneratedImage({
      ...(bytes === undefined ? {} : { bytes }),
      ...(typeof url === "string" && url !== "" ? { url } : {}),
      mediaType: mediaTypeOf(format, wire.format),
      ...sizeFields(size, wire.fields.size),
      ...(typeof revisedPrompt === "string" && revisedPrompt !== "" ? { revisedPrompt } : {})
    })
  })

const qualityOf = (reported: string | null | undefined, wire: Wire): string => {
  const asked = typeof wire.fields.quality === "string" ? wire.fields.quality : "auto"
  return typeof reported === "string" && reported !== "auto" && reported !== "" ? reported : asked
}

const sizeStringOf = (reported: string | null | undefined, wire: Wire): string | undefined =>
  typeof reported === "string" && /^\d+x\d+$/.test(reported)
    ? reported
    : typeof wire.fields.size === "string"
    ? wire.fields.size
    : undefined

/** Opens the streaming call and maps its events. */
const openStream = (
  config: ServiceConfig,
  call: Pick<ImageProvider.ProviderCall, "model" | "entry">,
  wire: Wire
) =>
  Effect.map(
    wire.endpoint === "generations"
      ? config.client.generateStream(wire.fields)
      : config.client.editStream(wire.edit!),
    ({ events, requestId }) => {
      const entry = entryOf(config, call)
      return events.pipe(
        Stream.mapEffect((event) =>
          Effect.gen(function*() {
            const image = yield* imageOf(
              config.id,
              call.model,
              event.b64_json,
              undefined,
              event.output_format,
              wire,
              event.size,
              undefined
            )
            if (event.type.endsWith("partial_image")) {
              return StreamEvent.PartialImage({ index: event.partial_image_index ?? 0, image, requestId })
            }
            return StreamEvent.Completed({
              image,
              usage: usageOf(event.usage),
              costUsd: costOf(
                config,
                call.model,
                entry,
                event.usage,
                qualityOf(event.quality, wire),
                sizeStringOf(event.size, wire),
                1
              ),
              requestId
            })
          })
        ),
        Stream.mapError(withRetiredInfo(entry))
      )
    }
  )

/** A stream of partial and completed images for one call. */
export const stream = (
  config: ServiceConfig,
  call: Pick<ImageProvider.ProviderCall, "request" | "model" | "entry" | "n">
): Stream.Stream<StreamEvent, ImageError.ImageError> =>
  Stream.unwrapScoped(
    Effect.flatMap(toWire(config.id, call, true), (wire) => openStream(config, call, wire)).pipe(
      Effect.mapError(withRetiredInfo(entryOf(config, call)))
    )
  )

/** The `ImageProvider` service over a client. */
export const makeService = (config: ServiceConfig): ImageProvider.Service => {
  const generate = (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
    Effect.gen(function*() {
      const entry = entryOf(config, call)
      const wire = yield* toWire(config.id, call)
      if (wire.streaming) return yield* generateStreaming(call, wire)
      const { requestId, response } = yield* (
        wire.endpoint === "generations" ? config.client.generate(wire.fields) : config.client.edit(wire.edit!)
      )
      const images = yield* Effect.forEach(
        response.data,
        (d) =>
          imageOf(
            config.id,
            call.model,
            d.b64_json,
            d.url,
            response.output_format,
            wire,
            response.size,
            d.revised_prompt
          )
      )
      if (images.length === 0) {
        return yield* new ImageError.MalformedResponse({
          provider: config.id,
          model: call.model,
          ...(requestId === undefined ? {} : { requestId }),
          detail: "the response has no images"
        })
      }
      const usage = usageOf(response.usage)
      const costUsd = costOf(
        config,
        call.model,
        entry,
        response.usage,
        qualityOf(response.quality, wire),
        sizeStringOf(response.size, wire),
        images.length
      )
      return {
        requestId,
        images,
        ...(usage === undefined ? {} : { usage }),
        ...(costUsd === undefined ? {} : { costUsd }),
        raw: rawOf(response)
      } satisfies ProviderResult
    }).pipe(Effect.mapError(withRetiredInfo(entryOf(config, call))))

  /** Streaming through the router: partial images are reported as `Running` progress events. */
  const generateStreaming = (call: ImageProvider.ProviderCall, wire: Wire) =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const events = yield* openStream(config, call, wire)
      const collected = yield* events.pipe(
        Stream.tap((event) =>
          event._tag === "PartialImage"
            ? Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Progress.report(
                Progress.ProgressEvent.Running({
                  provider: config.id,
                  requestId: event.requestId ?? "",
                  logs: [`partial image ${event.index + 1}`],
                  percent: undefined,
                  elapsedMs: now - started
                })
              ))
            : Effect.void
        ),
        Stream.filter((event) => event._tag === "Completed"),
        Stream.runCollect
      )
      const completed = Array.from(collected)
      if (completed.length === 0) {
        return yield* new ImageError.MalformedResponse({
          provider: config.id,
          model: call.model,
          detail: "the stream ended without a completed image"
        })
      }
      const requestId = completed[0]!.requestId
      const costs = completed.map((c) => c.costUsd)
      const usages = completed.map((c) => c.usage).filter((u) => u !== undefined)
      const usage = usages.length === 0 ? undefined : usages.reduce((a, b) => ({
        inputTokens: (a.inputTokens ?? 0) + (b.inputTokens ?? 0),
        outputTokens: (a.outputTokens ?? 0) + (b.outputTokens ?? 0),
        totalTokens: (a.totalTokens ?? 0) + (b.totalTokens ?? 0)
      }))
      return {
        requestId,
        images: completed.map((c) => c.image),
        ...(usage === undefined ? {} : { usage }),
        ...(costs.every((c) => c !== undefined) ? { costUsd: round(costs.reduce((a, b) => a + b, 0)) } : {}),
        raw: { stream: true, events: completed.length }
      } satisfies ProviderResult
    }).pipe(Effect.scoped)

  const host = ProviderHttp.hostOf(config.client.apiUrl)

  return {
    id: config.id,
    ...(config.id === "openai" ? { telemetryName: "openai" } : {}),
    ...(host === undefined ? {} : { serverAddress: host }),
    catalog: config.catalog,
    generate
  }
}

/** Resolves a request's model against one provider's catalog (for the direct streaming API). */
export const resolveCall = (
  id: string,
  catalog: Catalog.CatalogFile,
  request: ImageRequest.ImageRequest
): Effect.Effect<Pick<ImageProvider.ProviderCall, "request" | "model" | "entry" | "n">, ImageError.ImageError> =>
  Effect.gen(function*() {
    const address = request.model === undefined
      ? `${id}:`
      : request.model.startsWith(`${id}:`)
      ? request.model
      : `${id}:${request.model}`
    const resolved = yield* Catalog.resolve(Catalog.merge(Catalog.empty, catalog), address, [id])
    yield* Catalog.validate(resolved, request)
    const maxPerCall = resolved.entry?.capabilities.maxPerCall
    const n = request.n ?? 1
    if (maxPerCall !== undefined && n > maxPerCall) {
      return yield* new ImageError.UnsupportedCapability({
        provider: id,
        model: resolved.model,
        capability: "n",
        requested: String(n),
        supported: [`1 to ${maxPerCall} per streaming call`]
      })
    }
    return { request, model: resolved.model, entry: resolved.entry, n }
  })

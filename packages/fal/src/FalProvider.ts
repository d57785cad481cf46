/**
 * The `fal` provider: any fal.ai model through the queue API. Submit once, then follow the request over
 * the SSE status stream (polling every 500 ms when the stream is unavailable), report queue position and
 * logs as progress, fetch the result, and cancel the request at fal when interrupted or past the
 * deadline.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Catalog from "@image-gen/core/Catalog"
import * as ImageError from "@image-gen/core/ImageError"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { GeneratedImage } from "@image-gen/core/ImageResult"
import type { ProviderResult } from "@image-gen/core/ImageResult"
import * as Polling from "@image-gen/core/Polling"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import type * as Retry from "@image-gen/core/Retry"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import catalogData from "./catalog.json" with { type: "json" }
import * as FalClient from "./FalClient.js"
import * as Wire from "./internal/wire.js"

/**
 * The provider id used in addresses (`fal:flux`, `fal:fal-ai/sdxl/lightning`).
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "fal"

/**
 * The catalog of the fal provider, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(`@image-gen/fal: src/catalog.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`)
  )
)

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Status poll cadence when the status stream is not used or broke. Default 500 ms (as fal's JS SDK). */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** Longest time from submission to result; then the request is cancelled. Default 10 minutes. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Retries of one failed status check or result fetch (never of the submission). */
  readonly stepRetry?: Retry.RetryOptions | undefined
  /** Follow the status over SSE (`/status/stream`). Default true; polling takes over if it breaks. */
  readonly stream?: boolean | undefined
  /** Ask for runner logs (`logs=1`) and report them as progress. Default true. */
  readonly logs?: boolean | undefined
  /** How input images given as bytes reach fal: uploaded to fal storage (default) or inlined as data URLs. */
  readonly inputImages?: "upload" | "dataUrl" | undefined
  /**
   * What to do with images fal flags in `has_nsfw_concepts` (they come back blacked out): drop them and
   * fail with `ContentBlocked` when none is left (`filter`, default), fail when any is flagged (`block`),
   * or return them as they are (`keep`).
   */
  readonly nsfw?: "filter" | "block" | "keep" | undefined
  /** Extra submit headers, e.g. `{ "X-Fal-Queue-Priority": "low" }`. */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

const FalImage = Schema.Struct({
  url: Schema.String,
  width: Schema.optional(Schema.NullOr(Schema.Number)),
  height: Schema.optional(Schema.NullOr(Schema.Number)),
  content_type: Schema.optional(Schema.NullOr(Schema.String)),
  file_name: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * The output shape shared by fal's image models (`images[]`, or a single `image`).
 *
 * @since 0.1.0
 * @category Schemas
 */
export const Output = Schema.Struct({
  images: Schema.optional(Schema.NullOr(Schema.Array(FalImage))),
  image: Schema.optional(Schema.NullOr(FalImage)),
  seed: Schema.optional(Schema.NullOr(Schema.Number)),
  has_nsfw_concepts: Schema.optional(Schema.NullOr(Schema.Array(Schema.NullOr(Schema.Boolean)))),
  prompt: Schema.optional(Schema.NullOr(Schema.String)),
  description: Schema.optional(Schema.NullOr(Schema.String))
})

const extensionTypes: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  svg: "image/svg+xml",
  gif: "image/gif",
  mp4: "video/mp4"
}

const mediaTypeOf = (image: typeof FalImage.Type): string => {
  if (image.content_type) return image.content_type
  const name = image.file_name ?? image.url.split("?")[0]!
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase()
  return ext === undefined ? "" : extensionTypes[ext] ?? ""
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

const ratioOf = (size: string): string => {
  const { height, width } = ImageRequest.parseSize(size)
  const d = gcd(width, height)
  return `${width / d}:${height / d}`
}

const resolutionOfSize = (size: string): "1K" | "2K" | "4K" => {
  const { height, width } = ImageRequest.parseSize(size)
  const long = Math.max(width, height)
  return long <= 1024 ? "1K" : long <= 2048 ? "2K" : "4K"
}

const unsupported = (model: string, capability: string, requested: string, supported?: ReadonlyArray<string>) =>
  new ImageError.UnsupportedCapability({
    provider: providerId,
    model,
    capability,
    requested,
    ...(supported === undefined ? {} : { supported })
  })

/** `image_size` / `aspect_ratio` / `resolution` for one request. Never drops what was asked. */
const sizing = (
  wire: Wire.Wire,
  request: ImageRequest.ImageRequest,
  model: string,
  entry: Catalog.ModelEntry | undefined
): Effect.Effect<Record<string, unknown>, ImageError.UnsupportedCapability> => {
  const out: Record<string, unknown> = {}
  const { aspectRatio, resolution, size } = request
  if (wire.sizing === "image_size" || wire.sizing === "both") {
    if (size !== undefined) out.image_size = ImageRequest.parseSize(size)
    else if (aspectRatio !== undefined && resolution === undefined && Wire.presets[aspectRatio] !== undefined) {
      out.image_size = Wire.presets[aspectRatio]
    } else if (aspectRatio !== undefined || resolution !== undefined) {
      out.image_size = ImageRequest.dimensions(request)
    }
    if (wire.sizing === "both") {
      if (aspectRatio !== undefined) out.aspect_ratio = aspectRatio
      if (resolution === "1K" || resolution === "2K" || resolution === "4K") out.resolution = resolution
    }
    return Effect.succeed(out)
  }
  const ratios = entry?.capabilities.aspectRatios
  if (size !== undefined) {
    const ratio = ratioOf(size)
    if (aspectRatio === undefined && ratios !== undefined && !ratios.includes(ratio)) {
      return Effect.fail(
        unsupported(model, "size", size, ratios.map((r) => `a size with aspect ratio ${r}`))
      )
    }
    out.aspect_ratio = aspectRatio ?? ratio
  } else if (aspectRatio !== undefined) {
    out.aspect_ratio = aspectRatio
  }
  const wanted = resolution ?? (size === undefined ? undefined : resolutionOfSize(size))
  if (wanted !== undefined) {
    if (wire.resolution) out.resolution = wanted
    else if (resolution !== undefined) return Effect.fail(unsupported(model, "resolution", resolution))
  }
  return Effect.succeed(out)
}

const bytesToDataUrl = (image: ImageRequest.ImageBytes) =>
  `data:${image.mediaType};base64,${Buffer.from(image.data).toString("base64")}`

/**
 * Builds the provider service over a `FalClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<ImageProvider.Service, never, FalClient.FalClient> =>
  Effect.gen(function*() {
    const client = yield* FalClient.FalClient
    const pollInterval = Duration.decode(options.pollInterval ?? Duration.millis(500))
    const logs = options.logs ?? true
    const nsfw = options.nsfw ?? "filter"

    const inputUrl = (image: ImageRequest.InputImage, index: number) => {
      if (image._tag === "ImageUrl") return Effect.succeed(image.url)
      if (options.inputImages === "dataUrl") return Effect.succeed(bytesToDataUrl(image))
      return client.upload(image.data, image.mediaType, image.name ?? `input-${index}.${image.mediaType.split("/")[1]}`)
    }

    const generate = (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
      Effect.gen(function*() {
        const { entry, model, request } = call
        const known = Wire.table[model]
        const wire = known ?? Wire.generic
        const images = request.images ?? []
        const endpointId = request.mask !== undefined && wire.maskEndpoint !== undefined
          ? wire.maskEndpoint
          : images.length > 0 && wire.editEndpoint !== undefined
          ? wire.editEndpoint
          : model
        const endpointWire = Wire.table[endpointId] ?? wire
        const endpoint = yield* FalClient.parseEndpointId(endpointId)

        if (images.length > 0 && endpointWire.imageField === undefined) {
          return yield* unsupported(model, "input images", String(images.length))
        }
        if (request.mask !== undefined && endpointWire.mask !== true) {
          return yield* unsupported(model, "mask", "given")
        }
        const input: Record<string, unknown> = { prompt: request.prompt }
        Object.assign(input, yield* sizing(endpointWire, request, model, entry))
        if (endpointWire.numImages) input.num_images = call.n
        else if (call.n !== 1) return yield* unsupported(model, "n", String(call.n), ["1 per call"])
        if (request.seed !== undefined) {
          if (!endpointWire.seed) return yield* unsupported(model, "seed", String(request.seed))
          input.seed = request.seed
        }
        if (request.negativePrompt !== undefined) {
          if (!endpointWire.negativePrompt) {
            return yield* unsupported(model, "negative prompt", JSON.stringify(request.negativePrompt.slice(0, 40)))
          }
          input.negative_prompt = request.negativePrompt
        }
        if (request.outputFormat !== undefined) {
          if (endpointWire.svgStyle === true) {
            if (request.outputFormat === "svg") input.style = "vector_illustration"
            else if (request.outputFormat !== "png") {
              return yield* unsupported(model, "output format", request.outputFormat, ["png", "svg"])
            }
          } else if (endpointWire.outputFormat) {
            input.output_format = request.outputFormat
          } else {
            return yield* unsupported(model, "output format", request.outputFormat)
          }
        }
        if (request.quality !== undefined) {
          if (endpointWire.qualityField === undefined) {
            return yield* unsupported(model, "quality", request.quality)
          }
          input[endpointWire.qualityField] = request.quality.toUpperCase()
        }
        if (images.length > 0) {
          const urls = yield* Effect.forEach(images, inputUrl, { concurrency: 4 })
          const field = endpointWire.imageField
          if (field === "image_url" || field === "both") input.image_url = urls[0]
          if (field === "image_urls" || field === "both") input.image_urls = urls
        }
        if (request.mask !== undefined) input.mask_url = yield* inputUrl(request.mask, images.length)
        Object.assign(input, request.providerOptions ?? {})

        const submittedAt = yield* Ref.make(0)
        const startedAt = yield* Ref.make<number | undefined>(undefined)
        const seenLogs = yield* Ref.make(new Set<string>())
        const inference = yield* Ref.make<number | undefined>(undefined)

        const toJobStatus = (status: FalClient.QueueStatus) =>
          Effect.gen(function*() {
            if (status.status === "IN_QUEUE") {
              return Polling.JobStatus.Queued({ position: status.queue_position ?? undefined })
            }
            const now = yield* Clock.currentTimeMillis
            yield* Ref.update(startedAt, (t) => t ?? now)
            if (status.status === "IN_PROGRESS") {
              const fresh = yield* Ref.modify(seenLogs, (seen) => {
                const lines = (status.logs ?? []).filter((l) => !seen.has(`${l.timestamp ?? ""}|${l.message}`))
                const next = new Set(seen)
                for (const l of lines) next.add(`${l.timestamp ?? ""}|${l.message}`)
                return [lines.map((l) => l.message), next] as const
              })
              return Polling.JobStatus.Running({ logs: fresh })
            }
            const seconds = status.metrics?.inference_time
            if (typeof seconds === "number") yield* Ref.set(inference, seconds)
            return Polling.JobStatus.Completed({ output: status })
          })

        const refineResultError = (
          error: ImageError.ImageError,
          completed: FalClient.QueueStatus,
          requestId: string
        ): ImageError.ImageError => {
          if (error._tag === "ContentBlocked") return error
          const status = "status" in error ? error.status : undefined
          if (status === 404) {
            return new ImageError.JobFailed({
              provider: providerId,
              model,
              requestId,
              detail:
                "the result is gone: fal keeps results 1 hour after completion (6 minutes when 10 KB or more), or the request id is unknown",
              cause: error
            })
          }
          if (error._tag === "InvalidRequest" && status === 422) return error
          if (completed.error != null || status === 499) {
            const type = completed.error_type == null ? "" : ` (${completed.error_type})`
            return new ImageError.JobFailed({
              provider: providerId,
              model,
              requestId,
              detail: `${completed.error ?? "the request failed"}${type}; result: ${error.message}`,
              cause: error
            })
          }
          return error
        }

        const toResult = (data: unknown, requestId: string, falRequestId: string | undefined) =>
          Effect.gen(function*() {
            const output = yield* Schema.decodeUnknown(Output)(data).pipe(
              Effect.mapError((e) =>
                new ImageError.MalformedResponse({
                  provider: providerId,
                  model,
                  requestId,
                  detail: e.message.slice(0, 500)
                })
              )
            )
            const all = output.images ?? (output.image == null ? [] : [output.image])
            const flags = output.has_nsfw_concepts ?? []
            const flagged = all.filter((_, i) => flags[i] === true).length
            const kept = nsfw === "keep" ? all : all.filter((_, i) => flags[i] !== true)
            if (flagged > 0 && (nsfw === "block" || kept.length === 0)) {
              return yield* new ImageError.ContentBlocked({
                provider: providerId,
                model,
                requestId,
                reason: `fal's safety checker flagged ${flagged} of ${all.length} image(s) (has_nsfw_concepts)`
              })
            }
            if (kept.length === 0) {
              return yield* new ImageError.MalformedResponse({
                provider: providerId,
                model,
                requestId,
                detail: "the result has no images"
              })
            }
            const generated = kept.map((image, i) =>
              new GeneratedImage({
                url: image.url,
                mediaType: mediaTypeOf(image),
                ...(image.width == null ? {} : { width: image.width }),
                ...(image.height == null ? {} : { height: image.height }),
                ...(i === 0 && output.seed != null ? { seed: output.seed } : {}),
                ...(output.description == null ? {} : { revisedPrompt: output.description })
              })
            )
            const megapixels = generated.reduce(
              (sum, g) =>
                sum +
                (g.width === undefined || g.height === undefined
                  ? 0
                  : Math.max(1, Math.ceil((g.width * g.height) / (1024 * 1024)))),
              0
            )
            const haveSizes = generated.every((g) => g.width !== undefined && g.height !== undefined)
            const price = entry?.price
            const quality = request.quality === undefined ? undefined : price?.byQuality?.[request.quality]
            const costUsd = quality !== undefined
              ? quality * all.length
              : price?.perMegapixel !== undefined
              ? haveSizes ? megapixels * price.perMegapixel : undefined
              : price?.perImage !== undefined
              ? price.perImage * all.length
              : undefined
            const seconds = yield* Ref.get(inference)
            const submitted = yield* Ref.get(submittedAt)
            const started = yield* Ref.get(startedAt)
            const units: Record<string, number> = { images: all.length }
            if (haveSizes) units.megapixels = megapixels
            if (seconds !== undefined) units.inference_seconds = seconds
            return {
              requestId: falRequestId ?? requestId,
              images: generated,
              usage: { units },
              ...(costUsd === undefined ? {} : { costUsd }),
              ...(started === undefined || submitted === 0 ? {} : { queueMs: Math.max(0, started - submitted) }),
              raw: data
            } satisfies ProviderResult
          })

        const job: Polling.Job<FalClient.Handle, FalClient.QueueStatus> = {
          provider: providerId,
          model,
          submit: client.submit(endpoint, input, {
            webhookUrl: request.webhookUrl,
            headers: options.headers
          }).pipe(Effect.tap(() => Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.set(submittedAt, now)))),
          requestId: (handle) => handle.requestId,
          status: (handle) => Effect.flatMap(client.status(handle, { logs }), toJobStatus),
          watch: options.stream === false
            ? undefined
            : (handle) => client.streamStatus(handle, { logs }).pipe(Stream.mapEffect(toJobStatus)),
          result: (handle, completed) =>
            client.result(handle).pipe(
              Effect.mapError((error) => refineResultError(error, completed, handle.requestId)),
              Effect.flatMap((r) => toResult(r.data, handle.requestId, r.requestId))
            ),
          cancel: (handle) => client.cancel(handle)
        }
        return yield* Polling.run(job, {
          schedule: Schedule.spaced(pollInterval),
          deadline: options.deadline ?? Duration.minutes(10),
          ...(options.stepRetry === undefined ? {} : { stepRetry: options.stepRetry })
        })
      })

    return ImageProvider.make({
      id: providerId,
      telemetryName: "fal",
      serverAddress: ProviderHttp.hostOf(client.queueUrl),
      catalog,
      generate
    })
  })

/**
 * The provider over a `FalClient` you provide yourself.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerWithClient = (
  options: Options = {}
): Layer.Layer<ImageProvider.ImageProvider, never, FalClient.FalClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options))

/**
 * The provider with its client, from plain values.
 *
 * ```ts
 * FalProvider.layer({ apiKey: Redacted.make(key), queueUrl: "https://queue.fal.run" })
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: Options & FalClient.Options = {}
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  layerWithClient(options).pipe(Layer.provide(FalClient.layer(options)))

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions extends FalClient.ConfigOptions, Omit<Options, "pollInterval" | "deadline"> {
  /** Default: `FAL_POLL_INTERVAL` (a duration such as `500 millis`), else 500 ms. */
  readonly pollInterval?: Config.Config<Duration.Duration> | undefined
  /** Default: `FAL_DEADLINE` (a duration such as `5 minutes`), else 10 minutes. */
  readonly deadline?: Config.Config<Duration.Duration> | undefined
}

/**
 * The provider with everything read through `Config`: `FAL_KEY` (or `FAL_KEY_ID` + `FAL_KEY_SECRET`),
 * `FAL_QUEUE_URL` (default `https://queue.fal.run`), `FAL_REST_URL` (default `https://rest.fal.ai`),
 * `FAL_POLL_INTERVAL` (default 500 millis), `FAL_DEADLINE` (default 10 minutes). A missing key is not a
 * configuration error: calls fail with `AuthenticationError` naming `FAL_KEY`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const { deadline, pollInterval } = yield* Config.all({
        pollInterval: Config.option(options.pollInterval ?? Config.duration("FAL_POLL_INTERVAL")),
        deadline: Config.option(options.deadline ?? Config.duration("FAL_DEADLINE"))
      })
      const clientOptions = yield* FalClient.config(options)
      return layer({
        ...clientOptions,
        pollInterval: Option.getOrUndefined(pollInterval),
        deadline: Option.getOrUndefined(deadline),
        stepRetry: options.stepRetry,
        stream: options.stream,
        logs: options.logs,
        inputImages: options.inputImages,
        nsfw: options.nsfw,
        headers: options.headers
      })
    })
  )

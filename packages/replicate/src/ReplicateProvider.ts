/**
 * The `replicate` image provider: maps an `ImageRequest` to a model's `input`, creates a prediction
 * (with `Prefer: wait`), follows it through `Polling.run` when the wait window ends first, downloads the
 * output files at once (Replicate deletes them after an hour), and maps every outcome to an `ImageError`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Catalog from "@image-gen/core/Catalog"
import * as ImageError from "@image-gen/core/ImageError"
import * as ImageFiles from "@image-gen/core/ImageFiles"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { GeneratedImage } from "@image-gen/core/ImageResult"
import type { ProviderResult } from "@image-gen/core/ImageResult"
import * as Polling from "@image-gen/core/Polling"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import type * as Retry from "@image-gen/core/Retry"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import catalogData from "./catalog.json" with { type: "json" }
import * as Profiles from "./internal/profiles.js"
import * as ReplicateClient from "./ReplicateClient.js"

/**
 * The provider id used in addresses (`replicate:black-forest-labs/flux-schnell`).
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = ReplicateClient.providerId

/**
 * The catalog of Replicate models, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(
      `@image-gen/replicate: src/catalog.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`
    )
  )
)

/**
 * The webhook events Replicate can send.
 *
 * @since 0.1.0
 * @category Models
 */
export type WebhookEvent = "start" | "output" | "logs" | "completed"

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /**
   * Seconds the create call holds the connection open (`Prefer: wait=N`, 1 to 60) so fast models answer
   * in one round trip; when the window ends first, the prediction is polled. `false` disables it.
   * Default 10: a create cannot be interrupted while it waits, so keep this short.
   */
  readonly wait?: number | false | undefined
  /** Replicate cancels the prediction this long after creation (`Cancel-After`). Default: not sent. */
  readonly cancelAfter?: Duration.DurationInput | undefined
  /** Cadence of status checks. Default: 500 ms, growing by 1.5x, at most 4 s apart. */
  readonly pollSchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** The longest a prediction may take after creation before it is cancelled. Default 10 minutes. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Retries of one failed status check or download. Default: `Polling.defaultStepRetry`. */
  readonly stepRetry?: Retry.RetryOptions | undefined
  /** `webhook_events_filter` sent with `request.webhookUrl`. Default: not sent (Replicate's default). */
  readonly webhookEventsFilter?: ReadonlyArray<WebhookEvent> | undefined
  /**
   * How input images given as bytes reach the model: uploaded through `POST /files` and passed as the
   * file's URL (default), or inlined as a `data:` URL (Replicate recommends this only up to 256 KB).
   */
  readonly inputImages?: "upload" | "data-url" | undefined
  /**
   * Whether a failed prediction's error text is a safety refusal (mapped to `ContentBlocked`). The
   * exact texts are model-specific; the default matches NSFW / safety / sensitive / E005 / moderation.
   */
  readonly isContentBlocked?: ((error: string) => boolean) | undefined
  /** Per-try timeout of a result download. Default 60 seconds. */
  readonly downloadTimeout?: Duration.DurationInput | undefined
}

/**
 * The default safety classifier for failed predictions' error texts.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaultIsContentBlocked = (error: string): boolean =>
  /nsfw|safety|sensitive|\bE005\b|content polic|moderat|flagged/i.test(error)

/**
 * The default status-check cadence: 500 ms, then 1.5x longer each time, capped at 4 s.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaultPollSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential(
  Duration.millis(500),
  1.5
).pipe(Schedule.union(Schedule.spaced(Duration.seconds(4))))

/** A prediction being followed: its URLs, the answer of the create call, and the logs already reported. */
interface Handle {
  readonly id: string
  readonly getUrl: string
  readonly cancelUrl: string
  /** The create call's answer, used as the first status so a finished `Prefer: wait` needs no GET. */
  pending: ReplicateClient.Prediction | undefined
  logChars: number
}

const jpegToJpg = (format: ImageRequest.OutputFormat): string => (format === "jpeg" ? "jpg" : format)

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

const ratioOf = (width: number, height: number): string => {
  const d = gcd(width, height)
  return `${width / d}:${height / d}`
}

const mediaTypeFromUrl = (url: string): string | undefined => {
  const path = url.split("?")[0]!.toLowerCase()
  if (path.endsWith(".png")) return "image/png"
  if (path.endsWith(".jpg") || path.endsWith(".jpeg")) return "image/jpeg"
  if (path.endsWith(".webp")) return "image/webp"
  if (path.endsWith(".gif")) return "image/gif"
  if (path.endsWith(".mp4")) return "video/mp4"
  return undefined
}

/**
 * Every file URL in a model's output: a string, an array, or an object of them.
 *
 * @since 0.1.0
 * @category Utils
 */
export const outputUrls = (output: unknown): Array<string> => {
  if (typeof output === "string") return /^(https?:\/\/|data:)/i.test(output) ? [output] : []
  if (Array.isArray(output)) return output.flatMap(outputUrls)
  if (typeof output === "object" && output !== null) return Object.values(output).flatMap(outputUrls)
  return []
}

/** The lines of `logs` after the part already reported. */
const newLogLines = (handle: Handle, logs: string | null | undefined): Array<string> => {
  if (logs === undefined || logs === null || logs.length <= handle.logChars) {
    if (logs !== undefined && logs !== null && logs.length < handle.logChars) handle.logChars = logs.length
    return []
  }
  const fresh = logs.slice(handle.logChars)
  handle.logChars = logs.length
  return fresh.split(/\r?\n|\r/).map((line) => line.trimEnd()).filter((line) => line !== "")
}

/** The last tqdm-style percentage in the logs (`  45%|████▌     | 9/20 [...]`), as Replicate's SDK reads it. */
const percentOf = (logs: string | null | undefined): number | undefined => {
  if (logs === undefined || logs === null) return undefined
  const matches = Array.from(logs.matchAll(/(\d{1,3})%\s*\|[^|\n]*\|\s*(\d+)\/(\d+)/g))
  const last = matches[matches.length - 1]
  return last === undefined ? undefined : Math.min(100, Number(last[1]))
}

const errorText = (error: unknown): string =>
  error === undefined || error === null
    ? "no error message"
    : typeof error === "string"
    ? error
    : JSON.stringify(error)

const millisBetween = (from: string | null | undefined, to: string | null | undefined): number | undefined => {
  if (from === undefined || from === null || to === undefined || to === null) return undefined
  const a = Date.parse(from)
  const b = Date.parse(to)
  return Number.isNaN(a) || Number.isNaN(b) ? undefined : Math.max(0, b - a)
}

/**
 * Builds the provider service over a `ReplicateClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, ReplicateClient.ReplicateClient> =>
  Effect.gen(function*() {
    const client = yield* ReplicateClient.ReplicateClient
    const isBlocked = options.isContentBlocked ?? defaultIsContentBlocked
    const wait = options.wait === false ? undefined : options.wait ?? 10
    const serverAddress = ProviderHttp.hostOf(client.apiUrl)

    const unsupported = (model: string, capability: string, requested: string, supported?: ReadonlyArray<string>) =>
      new ImageError.UnsupportedCapability({
        provider: providerId,
        model,
        capability,
        requested,
        ...(supported === undefined ? {} : { supported })
      })

    /** An input image as a URL the model can fetch: URLs as given, bytes uploaded (or inlined). */
    const imageUrl = (image: ImageRequest.InputImage, model: string, index: number) =>
      image._tag === "ImageUrl"
        ? Effect.succeed(image.url)
        : options.inputImages === "data-url"
        ? Effect.succeed(`data:${image.mediaType};base64,${Encoding.encodeBase64(image.data)}`)
        : Effect.map(
          client.uploadFile({
            data: image.data,
            mediaType: image.mediaType,
            filename: image.name ?? `input-${index}.${ImageRequest.extensionOf(image.mediaType)}`
          }, model),
          (file) => file.urls.get
        )

    /** The model `input` for a call: the common fields in the model's spelling, then providerOptions. */
    const buildInput = (call: ImageProvider.ProviderCall) =>
      Effect.gen(function*() {
        const { model, request } = call
        const profile = Profiles.profileOf(model)
        const input: Record<string, unknown> = { prompt: request.prompt }

        // n
        if (profile.numOutputs === undefined) {
          if (call.n !== 1) {
            return yield* unsupported(model, "n per call", String(call.n), ["1 (the router splits larger n)"])
          }
        } else if (call.n > profile.numOutputs) {
          return yield* unsupported(model, "n per call", String(call.n), [`1 to ${profile.numOutputs}`])
        } else if (call.n !== 1 || Profiles.isKnown(model)) {
          input.num_outputs = call.n
        }

        // size, aspect ratio, resolution
        const images = request.images ?? []
        const wantsRatio = (
          ratio: string,
          what: string,
          requested: string
        ): Effect.Effect<void, ImageError.UnsupportedCapability> =>
          profile.aspectRatios === undefined || profile.aspectRatios.includes(ratio)
            ? Effect.sync(() => {
              input.aspect_ratio = ratio
            })
            : Effect.fail(unsupported(model, what, requested, profile.aspectRatios))
        switch (profile.size) {
          case "aspectRatio": {
            if (request.size !== undefined) {
              const { height, width } = ImageRequest.parseSize(request.size)
              // No width/height on this model: a size is honoured through its exact ratio.
              yield* wantsRatio(ratioOf(width, height), "size", request.size).pipe(
                Effect.mapError(() =>
                  unsupported(model, "size", request.size!, [
                    `a size whose ratio is one of ${profile.aspectRatios?.join(", ") ?? "the model's ratios"}`
                  ])
                )
              )
            } else if (request.aspectRatio !== undefined) {
              yield* wantsRatio(request.aspectRatio, "aspect ratio", request.aspectRatio)
            }
            break
          }
          case "custom": {
            if (request.size !== undefined) {
              const { height, width } = ImageRequest.parseSize(request.size)
              input.aspect_ratio = "custom"
              input.width = width
              input.height = height
            } else if (request.aspectRatio !== undefined) {
              yield* wantsRatio(request.aspectRatio, "aspect ratio", request.aspectRatio)
            }
            break
          }
          case "widthHeight": {
            if (request.size !== undefined || request.aspectRatio !== undefined || request.resolution !== undefined) {
              const { height, width } = ImageRequest.dimensions(request)
              input.width = width
              input.height = height
            }
            break
          }
          case "generic": {
            if (request.size !== undefined) {
              const { height, width } = ImageRequest.parseSize(request.size)
              input.width = width
              input.height = height
            }
            if (request.aspectRatio !== undefined) input.aspect_ratio = request.aspectRatio
            break
          }
        }
        if (request.resolution !== undefined && profile.resolution !== undefined && request.size === undefined) {
          const value = profile.resolution[request.resolution]
          if (value === undefined) {
            return yield* unsupported(model, "resolution", request.resolution, Object.keys(profile.resolution))
          }
          input.resolution = value
        }
        if (
          profile.matchInputImage && images.length > 0 && request.size === undefined &&
          request.aspectRatio === undefined
        ) {
          input.aspect_ratio = "match_input_image"
          if (profile.resolution !== undefined && request.resolution === undefined) {
            input.resolution = "match_input_image"
          }
        }

        if (request.seed !== undefined) input.seed = request.seed

        if (request.negativePrompt !== undefined) {
          if (!profile.negativePrompt) return yield* unsupported(model, "negative prompt", "given")
          input.negative_prompt = request.negativePrompt
        }

        if (request.outputFormat !== undefined) {
          const format = jpegToJpg(request.outputFormat)
          if (profile.outputFormats === undefined) {
            // The generic profile sends what was asked; a model without output_format (png only) is fine with png.
            if (profile !== Profiles.generic && format !== "png") {
              return yield* unsupported(model, "output format", request.outputFormat, ["png"])
            }
            if (profile === Profiles.generic) input.output_format = format
          } else if (!profile.outputFormats.includes(format)) {
            return yield* unsupported(model, "output format", request.outputFormat, profile.outputFormats)
          } else {
            input.output_format = format
          }
        }

        if (images.length > 0) {
          if (profile.image === undefined) return yield* unsupported(model, "input images", String(images.length))
          if (images.length > profile.image.max) {
            return yield* unsupported(model, "input images", String(images.length), [`at most ${profile.image.max}`])
          }
          const urls = yield* Effect.forEach(images, (image, i) => imageUrl(image, model, i), { concurrency: 4 })
          if (profile.image.list) input[profile.image.field] = urls
          else if (urls.length === 1) input[profile.image.field] = urls[0]
          else input.input_images = urls
        }
        if (request.mask !== undefined) {
          if (profile.mask === undefined) return yield* unsupported(model, "mask", "given")
          input[profile.mask] = yield* imageUrl(request.mask, model, images.length)
        }

        const { webhook_events_filter: _lifted, ...passthrough } = request.providerOptions ?? {}
        return { ...input, ...passthrough }
      })

    const webhookFilter = (request: ImageRequest.ImageRequest): ReadonlyArray<string> | undefined => {
      const fromRequest = request.providerOptions?.webhook_events_filter
      if (Array.isArray(fromRequest) && fromRequest.every((e) => typeof e === "string")) {
        return fromRequest as ReadonlyArray<string>
      }
      return options.webhookEventsFilter
    }

    const toStatus = (
      model: string,
      handle: Handle,
      prediction: ReplicateClient.Prediction
    ): Polling.JobStatus<ReplicateClient.Prediction> => {
      switch (prediction.status) {
        case "starting":
          return Polling.JobStatus.Queued({})
        case "succeeded":
          return Polling.JobStatus.Completed({ output: prediction })
        case "failed": {
          const text = errorText(prediction.error)
          return Polling.JobStatus.Failed({
            error: isBlocked(text)
              ? new ImageError.ContentBlocked({ provider: providerId, model, requestId: handle.id, reason: text })
              : new ImageError.JobFailed({ provider: providerId, model, requestId: handle.id, detail: text })
          })
        }
        case "canceled":
          return Polling.JobStatus.Failed({
            error: new ImageError.JobFailed({
              provider: providerId,
              model,
              requestId: handle.id,
              detail: prediction.error === undefined || prediction.error === null
                ? "the prediction was canceled (by a user, or its Cancel-After deadline passed while it ran)"
                : `the prediction was canceled: ${errorText(prediction.error)}`
            })
          })
        case "aborted":
          return Polling.JobStatus.Failed({
            error: new ImageError.JobFailed({
              provider: providerId,
              model,
              requestId: handle.id,
              detail: "the prediction was aborted: its Cancel-After deadline passed before it started"
            })
          })
        default:
          // `processing` (output may already be present: not final until `succeeded`), or a new status.
          return Polling.JobStatus.Running({
            logs: newLogLines(handle, prediction.logs),
            percent: percentOf(prediction.logs)
          })
      }
    }

    const result = (
      call: ImageProvider.ProviderCall,
      handle: Handle,
      prediction: ReplicateClient.Prediction
    ): Effect.Effect<ProviderResult, ImageError.ImageError> =>
      Effect.gen(function*() {
        const { model, request } = call
        const urls = outputUrls(prediction.output)
        if (urls.length === 0) {
          return yield* new ImageError.JobFailed({
            provider: providerId,
            model,
            requestId: handle.id,
            detail: prediction.data_removed === true
              ? "the prediction succeeded but its output was already removed (Replicate keeps API outputs for an hour)"
              : `the prediction succeeded without an output file (output: ${
                JSON.stringify(prediction.output ?? null).slice(0, 200)
              })`
          })
        }
        const downloaded = yield* Effect.forEach(
          urls,
          (url) =>
            ImageFiles.download(url, {
              provider: providerId,
              requestId: handle.id,
              ...(options.downloadTimeout === undefined ? {} : { timeout: options.downloadTimeout })
            }).pipe(
              Effect.provideService(HttpClient.HttpClient, client.downloadClient),
              Effect.map(({ bytes, mediaType }) => ({ url, bytes, mediaType }))
            ),
          { concurrency: 4 }
        )
        const dims = request.size === undefined ? undefined : ImageRequest.parseSize(request.size)
        const images = downloaded.map(({ bytes, mediaType, url }) =>
          new GeneratedImage({
            bytes,
            url,
            mediaType: mediaType === "application/octet-stream"
              ? mediaTypeFromUrl(url) ?? (request.outputFormat === undefined
                ? mediaType
                : ImageRequest.mediaTypeOf(request.outputFormat))
              : mediaType,
            ...(dims === undefined || Profiles.profileOf(model).size === "aspectRatio" ? {} : dims),
            ...(request.seed === undefined || downloaded.length !== 1 ? {} : { seed: request.seed })
          })
        )
        const predictTime = prediction.metrics?.predict_time
        const price = call.entry?.price
        const costUsd = price?.perSecond !== undefined && predictTime !== undefined
          ? predictTime * price.perSecond
          : price?.perImage !== undefined && price.perMegapixel === undefined && price.perSecond === undefined
          ? price.perImage * images.length
          : undefined
        const queueMs = millisBetween(prediction.created_at, prediction.started_at)
        return {
          requestId: handle.id,
          images,
          usage: {
            units: {
              images: images.length,
              ...(predictTime === undefined ? {} : { predict_time_seconds: predictTime })
            }
          },
          ...(costUsd === undefined ? {} : { costUsd: Math.round(costUsd * 1e6) / 1e6 }),
          ...(queueMs === undefined ? {} : { queueMs }),
          raw: prediction
        }
      })

    const generate = (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
      Effect.gen(function*() {
        const { model, request } = call
        const input = yield* buildInput(call)
        const webhookEventsFilter = request.webhookUrl === undefined ? undefined : webhookFilter(request)
        const job: Polling.Job<Handle, ReplicateClient.Prediction> = {
          provider: providerId,
          model,
          submit: client.createPrediction({
            model,
            input,
            ...(request.webhookUrl === undefined ? {} : { webhook: request.webhookUrl }),
            ...(webhookEventsFilter === undefined ? {} : { webhookEventsFilter }),
            ...(wait === undefined ? {} : { wait }),
            ...(options.cancelAfter === undefined ? {} : { cancelAfter: options.cancelAfter })
          }, model).pipe(
            Effect.map((prediction): Handle => ({
              id: prediction.id,
              getUrl: prediction.urls?.get ?? prediction.id,
              cancelUrl: prediction.urls?.cancel ?? prediction.id,
              pending: prediction,
              logChars: 0
            }))
          ),
          requestId: (handle) => handle.id,
          status: (handle) =>
            Effect.suspend(() => {
              const pending = handle.pending
              if (pending !== undefined) {
                handle.pending = undefined
                return Effect.succeed(toStatus(model, handle, pending))
              }
              return Effect.map(client.getPrediction(handle.getUrl, model), (p) => toStatus(model, handle, p))
            }),
          result: (handle, prediction) => result(call, handle, prediction),
          cancel: (handle) => Effect.asVoid(client.cancelPrediction(handle.cancelUrl, model))
        }
        return yield* Polling.run(job, {
          schedule: options.pollSchedule ?? defaultPollSchedule,
          ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
          ...(options.stepRetry === undefined ? {} : { stepRetry: options.stepRetry })
        })
      })

    return ImageProvider.make({
      id: providerId,
      serverAddress,
      catalog,
      generate
    })
  })

/**
 * The provider over a `ReplicateClient` you provide (to share one client, or to wrap it).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerFromClient = (
  options: Options = {}
): Layer.Layer<ImageProvider.ImageProvider, never, ReplicateClient.ReplicateClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options))

/**
 * The provider with its client, from plain values.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: Options & ReplicateClient.Options = {}
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  layerFromClient(options).pipe(Layer.provide(ReplicateClient.layer(options)))

/**
 * The provider with its client from configuration: `REPLICATE_API_TOKEN` (optional; a missing token fails
 * calls with `AuthenticationError`, not the layer) and `REPLICATE_BASE_URL`
 * (default `https://api.replicate.com/v1`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: Options & ReplicateClient.ConfigOptions = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(Config.option(Config.duration("REPLICATE_DEADLINE")), (deadline) => {
      // The env var sets the deadline unless the caller gave one.
      const withDeadline = options.deadline === undefined && Option.isSome(deadline)
        ? { ...options, deadline: deadline.value }
        : options
      return layerFromClient(withDeadline).pipe(Layer.provide(ReplicateClient.layerConfig(options)))
    })
  )

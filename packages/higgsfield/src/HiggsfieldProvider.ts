/**
 * The `higgsfield` provider: Higgsfield platform (v2) Soul images and DoP / Kling image-to-video, as a job
 * provider: submit once, poll the request status, cancel at the provider on interruption or deadline while
 * the request is still queued. Videos come back as a `GeneratedImage` with media type `video/mp4`.
 *
 * The v2 model input schemas are not published (the docs say they are being redesigned): the fields sent
 * (`prompt`, `aspect_ratio`, `resolution`, `seed`, `image_url`) follow the docs' examples; override them
 * with `providerOptions` or the `transformBody` option.
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
import * as Polling from "@image-gen/core/Polling"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import type * as Retry from "@image-gen/core/Retry"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import catalogData from "./catalog.json" with { type: "json" }
import * as HiggsfieldClient from "./HiggsfieldClient.js"

/**
 * The provider id.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = HiggsfieldClient.providerId

/**
 * The catalog of Higgsfield models, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(
      `@image-gen/higgsfield: src/catalog.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`
    )
  )
)

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Cadence of status checks for images. Default 1 s growing to every 3 s. */
  readonly pollSchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Cadence of status checks for videos. Default 3 s growing to every 5 s. */
  readonly videoPollSchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** Deadline for images. Default 10 minutes. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Deadline for videos. Default 30 minutes. */
  readonly videoDeadline?: Duration.DurationInput | undefined
  /** Retries of one failed status check. Default: `Polling.defaultStepRetry`. */
  readonly stepRetry?: Retry.RetryOptions | undefined
  /** Rewrites the request body before submission (the v2 input schemas are unpublished). */
  readonly transformBody?:
    | ((model: string, body: Record<string, unknown>) => Record<string, unknown>)
    | undefined
}

/**
 * @since 0.1.0
 * @category Defaults
 */
export const defaultPollSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential(Duration.seconds(1), 1.5)
  .pipe(Schedule.union(Schedule.spaced(Duration.seconds(3))))

/**
 * @since 0.1.0
 * @category Defaults
 */
export const defaultVideoPollSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential(
  Duration.seconds(3),
  1.3
).pipe(Schedule.union(Schedule.spaced(Duration.seconds(5))))

const videoId = /(^|\/)(dop|video)|image-to-video|text-to-video|kling|seedance|sora|wan|hailuo|minimax|veo/i

/**
 * Whether a model answers with a video: from the catalog when known, else from its id.
 *
 * @since 0.1.0
 * @category Utils
 */
export const isVideo = (model: string, entry: Catalog.CatalogModel | undefined): boolean =>
  entry !== undefined ? entry.output === "video" : videoId.test(model)

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

const mediaTypeOfUrl = (url: string): string => {
  const path = url.split("?")[0]!.toLowerCase()
  if (path.endsWith(".jpg") || path.endsWith(".jpeg")) return "image/jpeg"
  if (path.endsWith(".webp")) return "image/webp"
  if (path.endsWith(".mp4")) return "video/mp4"
  if (path.endsWith(".webm")) return "video/webm"
  return "image/png"
}

/**
 * Maps a request to the v2 body (and webhook) for `model`, before input images are uploaded.
 *
 * @since 0.1.0
 * @category Mapping
 */
export const toWire = (
  call: ImageProvider.ProviderCall
): Either.Either<
  { readonly body: Record<string, unknown>; readonly webhookUrl: string | undefined; readonly video: boolean },
  ImageError.ImageError
> => {
  const { entry, model, request } = call
  const video = isVideo(model, entry)
  const unsupported = (capability: string, requested: string, supported?: ReadonlyArray<string>) =>
    Either.left(
      new ImageError.UnsupportedCapability({
        provider: providerId,
        model,
        capability,
        requested,
        ...(supported === undefined ? {} : { supported })
      })
    )
  if (request.negativePrompt !== undefined) return unsupported("negative prompt", "given")
  if (request.quality !== undefined) return unsupported("quality", request.quality)
  if (request.mask !== undefined) return unsupported("mask", "given")
  if (request.outputFormat !== undefined && !(video && request.outputFormat === "mp4")) {
    return unsupported("output format", request.outputFormat, video ? ["mp4"] : [])
  }
  const body: Record<string, unknown> = { prompt: request.prompt }
  const ratios = entry?.capabilities.aspectRatios
  if (request.size !== undefined) {
    const { height, width } = ImageRequest.parseSize(request.size)
    const d = gcd(width, height)
    const ratio = `${width / d}:${height / d}`
    if (ratios !== undefined && !ratios.includes(ratio)) {
      return unsupported("size", request.size, ratios.map((r) => `a ${r} size`))
    }
    body.aspect_ratio = request.aspectRatio ?? ratio
    body.resolution = request.resolution ?? (Math.max(width, height) <= 1280 ? "720p" : "1080p")
  } else {
    if (request.aspectRatio !== undefined) body.aspect_ratio = request.aspectRatio
    if (request.resolution !== undefined) body.resolution = request.resolution
  }
  if (request.seed !== undefined) body.seed = request.seed
  const images = request.images ?? []
  if (video) {
    if (images.length === 0) return unsupported("input images", "0", ["1 input image (image-to-video)"])
    if (images.length > 1) return unsupported("input images", String(images.length), ["1"])
  }
  const { hf_webhook, ...passthrough } = request.providerOptions ?? {}
  Object.assign(body, passthrough)
  const webhookUrl = typeof hf_webhook === "string" ? hf_webhook : request.webhookUrl
  return Either.right({ body, webhookUrl, video })
}

/** A URL Higgsfield can fetch: http(s) URLs as given; bytes and data URLs are uploaded first. */
const publicUrl = (
  client: HiggsfieldClient.Service,
  image: ImageRequest.InputImage
): Effect.Effect<string, ImageError.ImageError> => {
  if (image._tag === "ImageBytes") return client.upload(image.data, image.mediaType)
  if (/^https?:\/\//.test(image.url)) return Effect.succeed(image.url)
  return ImageFiles.decodeDataUrl(image.url).pipe(
    Effect.flatMap(({ bytes, mediaType }) => client.upload(bytes, mediaType))
  )
}

/**
 * Maps one status answer to a job status: `completed` is success, `nsfw` a content block, `failed` and
 * `canceled` fail the job, `queued` / `in_progress` (and unknown words) keep polling.
 *
 * @since 0.1.0
 * @category Mapping
 */
export const toJobStatus = (
  response: HiggsfieldClient.RequestStatus,
  model: string
): Polling.JobStatus<HiggsfieldClient.RequestStatus> => {
  const site = { provider: providerId, model, requestId: response.request_id }
  switch (response.status) {
    case "queued":
      return Polling.JobStatus.Queued({})
    case "in_progress":
      return Polling.JobStatus.Running({})
    case "completed":
      return Polling.JobStatus.Completed({ output: response })
    case "nsfw":
      return Polling.JobStatus.Failed({
        error: new ImageError.ContentBlocked({
          ...site,
          reason: "nsfw: the input or the output failed moderation (not charged)"
        })
      })
    case "failed":
      return Polling.JobStatus.Failed({
        error: new ImageError.JobFailed({
          ...site,
          detail: `Higgsfield reported failed${response.error ? `: ${response.error}` : ""} (not charged)`
        })
      })
    case "canceled":
    case "cancelled":
      return Polling.JobStatus.Failed({
        error: new ImageError.JobFailed({ ...site, detail: "the request was canceled" })
      })
    default:
      return Polling.JobStatus.Running({ logs: [response.status] })
  }
}

const generateWith = (client: HiggsfieldClient.Service, options: Options) => {
  const one = (
    call: ImageProvider.ProviderCall,
    wire: { readonly body: Record<string, unknown>; readonly webhookUrl: string | undefined; readonly video: boolean }
  ): Effect.Effect<ProviderResult, ImageError.ImageError> => {
    const model = call.model
    return Polling.run<HiggsfieldClient.RequestStatus, HiggsfieldClient.RequestStatus>({
      provider: providerId,
      model,
      submit: client.submit(model, wire.body, wire.webhookUrl),
      requestId: (handle) => handle.request_id,
      status: (handle) =>
        client.status(handle, model).pipe(
          Effect.map((r) => toJobStatus(r, model)),
          // 404: the request id is unknown (deleted, or another account's): the job vanished.
          Effect.catchIf(
            (error) => error._tag === "InvalidRequest" && error.status === 404,
            (error) =>
              Effect.succeed(Polling.JobStatus.Failed({
                error: new ImageError.JobFailed({
                  provider: providerId,
                  model,
                  requestId: handle.request_id,
                  detail: `the request vanished at Higgsfield (${error.message})`
                })
              }))
          )
        ),
      result: (handle, output) => {
        const urls = wire.video
          ? output.video?.url === undefined ? [] : [output.video.url]
          : (output.images ?? []).map((i) => i.url)
        if (urls.length === 0) {
          return Effect.fail(
            new ImageError.MalformedResponse({
              provider: providerId,
              model,
              requestId: handle.request_id,
              detail: wire.video ? "completed without video.url" : "completed without images"
            })
          )
        }
        return Effect.succeed(
          {
            requestId: handle.request_id,
            images: urls.map((url) =>
              new GeneratedImage({
                url,
                mediaType: wire.video
                  ? (mediaTypeOfUrl(url).startsWith("video/") ? mediaTypeOfUrl(url) : "video/mp4")
                  : mediaTypeOfUrl(url),
                ...(typeof wire.body.seed === "number" ? { seed: wire.body.seed } : {})
              })
            ),
            raw: output
          } satisfies ProviderResult
        )
      },
      cancel: (handle) => Effect.asVoid(client.cancel(handle, model))
    }, {
      schedule: wire.video
        ? options.videoPollSchedule ?? options.pollSchedule ?? defaultVideoPollSchedule
        : options.pollSchedule ?? defaultPollSchedule,
      deadline: wire.video ? options.videoDeadline ?? Duration.minutes(30) : options.deadline ?? Duration.minutes(10),
      ...(options.stepRetry === undefined ? {} : { stepRetry: options.stepRetry })
    })
  }

  return (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
    Effect.gen(function*() {
      const wire = yield* toWire(call)
      const images = call.request.images ?? []
      const urls = yield* Effect.forEach(images, (image) => publicUrl(client, image))
      const withImages: Record<string, unknown> = { ...wire.body }
      if (urls.length === 1 && withImages.image_url === undefined) withImages.image_url = urls[0]
      if (urls.length > 1 && withImages.image_urls === undefined) withImages.image_urls = urls
      const body = options.transformBody === undefined ? withImages : options.transformBody(call.model, withImages)
      const final = { ...wire, body }
      if (call.n <= 1) return yield* one(call, final)
      const results = yield* Effect.forEach(
        Array.from({ length: call.n }, (_, i) => i),
        (i) =>
          one(
            call,
            typeof body.seed === "number"
              ? { ...final, body: { ...body, seed: (body.seed + i) % 4_294_967_296 } }
              : final
          ),
        { concurrency: call.n }
      )
      return {
        requestId: results.map((r) => r.requestId).join(","),
        images: results.flatMap((r) => r.images),
        raw: results.map((r) => r.raw)
      } satisfies ProviderResult
    })
}

/**
 * Builds the provider service over a `HiggsfieldClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, HiggsfieldClient.HiggsfieldClient> =>
  Effect.map(HiggsfieldClient.HiggsfieldClient, (client) =>
    ImageProvider.make({
      id: providerId,
      serverAddress: ProviderHttp.hostOf(client.apiUrl),
      catalog,
      generate: generateWith(client, options)
    }))

/**
 * The provider over an existing `HiggsfieldClient` layer.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerWithClient = (
  options: Options = {}
): Layer.Layer<ImageProvider.ImageProvider, never, HiggsfieldClient.HiggsfieldClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options))

/**
 * The provider with explicit credentials.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: HiggsfieldClient.Options & Options
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  layerWithClient(options).pipe(Layer.provide(HiggsfieldClient.layer(options)))

/**
 * The provider configured from the environment: `HIGGSFIELD_API_KEY`, `HIGGSFIELD_API_SECRET` (required),
 * `HIGGSFIELD_BASE_URL` (default `https://platform.higgsfield.ai`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: HiggsfieldClient.ConfigOptions & Options = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(Config.option(Config.duration("HIGGSFIELD_DEADLINE")), (deadline) => {
      // The env var sets the deadline unless the caller gave one.
      const withDeadline = options.deadline === undefined && Option.isSome(deadline)
        ? { ...options, deadline: deadline.value }
        : options
      return layerWithClient(withDeadline).pipe(Layer.provide(HiggsfieldClient.layerConfig(options)))
    })
  )

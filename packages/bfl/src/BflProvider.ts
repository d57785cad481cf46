/**
 * The `bfl` provider: Black Forest Labs FLUX.2, FLUX1.1 [pro] / Ultra, FLUX.1 [dev], Fill and Kontext
 * editing, as a job provider: submit once, poll the cluster-specific `polling_url` until a final status,
 * and download the result at once (BFL's signed result URLs expire after about ten minutes), so results
 * carry bytes.
 *
 * BFL has no cancel endpoint: an interrupted or timed-out job keeps running (and is billed) at BFL.
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
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as BflClient from "./BflClient.js"
import catalogData from "./catalog.json" with { type: "json" }

/**
 * The provider id.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = BflClient.providerId

/**
 * The catalog of BFL models, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(`@image-gen/bfl: src/catalog.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`)
  )
)

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /**
   * The cadence of status checks. Default: 500 ms, growing by 1.5x up to every 2 seconds (BFL's docs poll
   * every 0.5 s; its guide recommends backing off).
   */
  readonly pollSchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** The longest a job may take from submission to result. Default 5 minutes. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Retries of one failed status check or download. Default: `Polling.defaultStepRetry`. */
  readonly stepRetry?: Retry.RetryOptions | undefined
  /** Retries and timeout of the result download (right after `Ready`). Default: core's download policy. */
  readonly download?: {
    readonly timeout?: Duration.DurationInput | undefined
    readonly retry?: Retry.RetryOptions | undefined
  } | undefined
  /**
   * `Task not found` answers tolerated right after submission before the job counts as vanished (some
   * clients observed transient 404s on fresh tasks). Default 2.
   */
  readonly taskNotFoundTolerance?: number | undefined
}

/**
 * The default cadence: 0.5 s, then 0.75 s, ... capped at 2 s.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaultPollSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential(
  Duration.millis(500),
  1.5
).pipe(Schedule.union(Schedule.spaced(Duration.seconds(2))))

/** How a model family takes its size and input images. */
type Family = "flux2" | "kontext" | "ultra" | "pro11" | "fill"

const familyOf = (model: string): Family => {
  if (model.startsWith("flux-kontext-")) return "kontext"
  if (model.startsWith("flux-pro-1.1-ultra")) return "ultra"
  if (model === "flux-pro-1.1" || model === "flux-dev" || model === "flux-pro") return "pro11"
  if (model.startsWith("flux-pro-1.0-fill")) return "fill"
  // FLUX.2 and unknown ids: width/height and input_image, input_image_2, ...
  return "flux2"
}

const maxInputsOf = (family: Family): number => {
  switch (family) {
    case "flux2":
      return 8
    case "kontext":
      return 4
    default:
      return 1
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

const ratioOfSize = (size: string): string => {
  const { height, width } = ImageRequest.parseSize(size)
  const d = gcd(width, height)
  return `${width / d}:${height / d}`
}

const roundTo = (multiple: number) => (x: number) => Math.max(multiple, Math.round(x / multiple) * multiple)

/** The wire form of an input image: URLs as given, bytes and data URLs as plain base64. */
const wireImage = (image: ImageRequest.InputImage): string => {
  if (image._tag === "ImageBytes") return Encoding.encodeBase64(image.data)
  const data = /^data:[^,]*;base64,(.*)$/s.exec(image.url)
  return data === null ? image.url : data[1]!
}

const isRemote = (image: ImageRequest.InputImage) => image._tag === "ImageUrl" && /^https?:/.test(image.url)

interface WireRequest {
  readonly body: Record<string, unknown>
  readonly width?: number | undefined
  readonly height?: number | undefined
  readonly outputFormat: string
}

/**
 * Maps a request to BFL's body for `model`. Fails with `UnsupportedCapability` for what the model cannot do
 * (never drops a field silently).
 *
 * @since 0.1.0
 * @category Mapping
 */
export const toWire = (
  request: ImageRequest.ImageRequest,
  model: string
): Either.Either<WireRequest, ImageError.ImageError> => {
  const family = familyOf(model)
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
  const format = request.outputFormat
  if (format !== undefined && format !== "jpeg" && format !== "png" && format !== "webp") {
    return unsupported("output format", format, ["jpeg", "png", "webp"])
  }
  const images = request.images ?? []
  const maxInputs = maxInputsOf(family)
  if (images.length > maxInputs) return unsupported("input images", String(images.length), [`at most ${maxInputs}`])
  if (request.mask !== undefined && family !== "fill") return unsupported("mask", "given")

  const body: Record<string, unknown> = { prompt: request.prompt }
  let width: number | undefined
  let height: number | undefined
  const wantsSize = request.size !== undefined || request.aspectRatio !== undefined ||
    request.resolution !== undefined

  switch (family) {
    case "flux2":
    case "pro11": {
      if (wantsSize) {
        const dims = ImageRequest.dimensions(request)
        const round = roundTo(family === "flux2" ? 16 : 32)
        width = request.size === undefined ? round(dims.width) : dims.width
        height = request.size === undefined ? round(dims.height) : dims.height
        body.width = width
        body.height = height
      }
      if (family === "flux2") {
        images.forEach((image, i) => {
          body[i === 0 ? "input_image" : `input_image_${i + 1}`] = wireImage(image)
        })
      } else if (images[0] !== undefined) {
        if (isRemote(images[0])) {
          return Either.left(
            new ImageError.InvalidRequest({
              provider: providerId,
              model,
              field: "images.0",
              detail: "this model takes its image prompt as base64: pass image bytes or a data: URL"
            })
          )
        }
        body.image_prompt = wireImage(images[0])
      }
      break
    }
    case "kontext":
    case "ultra": {
      if (request.aspectRatio !== undefined || request.size !== undefined) {
        const ratio = request.aspectRatio ?? ratioOfSize(request.size!)
        const value = ImageRequest.parseAspectRatio(ratio)
        if (value > 21 / 9 + 1e-9 || value < 9 / 21 - 1e-9) {
          return unsupported(
            request.size === undefined ? "aspect ratio" : "size",
            request.aspectRatio ?? request.size!,
            [
              "ratios from 21:9 to 9:21"
            ]
          )
        }
        body.aspect_ratio = ratio
      }
      if (family === "kontext") {
        images.forEach((image, i) => {
          body[i === 0 ? "input_image" : `input_image_${i + 1}`] = wireImage(image)
        })
      } else if (images[0] !== undefined) {
        if (isRemote(images[0])) {
          return Either.left(
            new ImageError.InvalidRequest({
              provider: providerId,
              model,
              field: "images.0",
              detail: "this model takes its image prompt as base64: pass image bytes or a data: URL"
            })
          )
        }
        body.image_prompt = wireImage(images[0])
      }
      break
    }
    case "fill": {
      if (wantsSize) return unsupported("size", request.size ?? request.aspectRatio ?? request.resolution!)
      const image = images[0]
      if (image === undefined) return unsupported("input images", "0", ["1 image to fill"])
      body.image = wireImage(image)
      if (request.mask !== undefined) body.mask = wireImage(request.mask)
      break
    }
  }
  if (request.seed !== undefined) body.seed = request.seed
  if (format !== undefined) body.output_format = format
  if (request.webhookUrl !== undefined) body.webhook_url = request.webhookUrl
  // Passthrough last: safety_tolerance, prompt_upsampling, raw, steps, guidance, webhook_url, webhook_secret, ...
  Object.assign(body, request.providerOptions ?? {})
  const outputFormat = typeof body.output_format === "string"
    ? body.output_format
    : family === "kontext"
    ? "png"
    : "jpeg"
  return Either.right({ body, width, height, outputFormat })
}

const mediaTypeOfFormat = (format: string): string =>
  format === "png" ? "image/png" : format === "webp" ? "image/webp" : "image/jpeg"

interface Handle {
  readonly submitted: BflClient.AsyncResponse
  readonly pollingUrl: string
}

const finalFailure = /error|fail|moderat|reject|cancel|not found|expired/i

/**
 * Maps one poll answer to a job status. `Ready` is final success, both moderation statuses are content
 * blocks, `Error`/`Failed` fail the job, `Task not found` means the job vanished (after a short tolerance),
 * `Pending` and unknown progress words keep polling.
 *
 * @since 0.1.0
 * @category Mapping
 */
export const toJobStatus = (
  response: BflClient.ResultResponse,
  model: string,
  notFoundSoFar: number,
  tolerance: number
): Polling.JobStatus<BflClient.ReadyResult> => {
  const site = { provider: providerId, model, requestId: response.id }
  const percent = response.progress === undefined || response.progress === null
    ? undefined
    : response.progress <= 1
    ? Math.round(response.progress * 100)
    : response.progress
  switch (response.status) {
    case "Pending":
      return percent === undefined ? Polling.JobStatus.Queued({}) : Polling.JobStatus.Running({ percent })
    case "Ready": {
      const decoded = Schema.decodeUnknownEither(BflClient.ReadyResult)(response.result)
      return Either.match(decoded, {
        onLeft: (error) =>
          Polling.JobStatus.Failed({
            error: new ImageError.MalformedResponse({
              ...site,
              detail: `Ready without result.sample: ${error.message}`
            })
          }),
        onRight: (output) => Polling.JobStatus.Completed({ output })
      })
    }
    case "Request Moderated":
    case "Content Moderated": {
      const reasons = response.details?.["Moderation Reasons"]
      const why = Array.isArray(reasons) && reasons.length > 0 ? ` (${reasons.map(String).join(", ")})` : ""
      const what = response.status === "Request Moderated" ? "input (prompt or image)" : "generated output"
      return Polling.JobStatus.Failed({
        error: new ImageError.ContentBlocked({ ...site, reason: `${response.status}: ${what} rejected${why}` })
      })
    }
    case "Task not found":
      return notFoundSoFar < tolerance
        ? Polling.JobStatus.Queued({})
        : Polling.JobStatus.Failed({
          error: new ImageError.JobFailed({
            ...site,
            detail: "Task not found: the job vanished (expired, or polled on a cluster that does not own it)"
          })
        })
    case "Error":
    case "Failed":
      return Polling.JobStatus.Failed({
        error: new ImageError.JobFailed({
          ...site,
          detail: `BFL reported ${response.status}${
            response.details === undefined || response.details === null ? "" : `: ${JSON.stringify(response.details)}`
          }`
        })
      })
    default:
      return finalFailure.test(response.status)
        ? Polling.JobStatus.Failed({
          error: new ImageError.JobFailed({ ...site, detail: `BFL reported ${response.status}` })
        })
        : Polling.JobStatus.Running({ logs: [response.status], percent })
  }
}

const generateWith = (
  client: BflClient.Service,
  context: Context.Context<HttpClient.HttpClient>,
  options: Options
) => {
  const schedule = options.pollSchedule ?? defaultPollSchedule
  const deadline = options.deadline ?? Duration.minutes(5)
  const tolerance = options.taskNotFoundTolerance ?? 2

  const one = (
    model: string,
    wire: WireRequest
  ): Effect.Effect<ProviderResult, ImageError.ImageError> =>
    Effect.gen(function*() {
      const notFound = yield* Ref.make(0)
      return yield* Polling.run<Handle, BflClient.ReadyResult>({
        provider: providerId,
        model,
        submit: Effect.map(client.submit(model, wire.body), (submitted) => ({
          submitted,
          pollingUrl: client.pollingUrl(submitted)
        })),
        requestId: (handle) => handle.submitted.id,
        status: (handle) =>
          client.getResult(handle.pollingUrl, model).pipe(
            Effect.flatMap((response) =>
              Ref.getAndUpdate(notFound, (n) => (response.status === "Task not found" ? n + 1 : 0)).pipe(
                Effect.map((seen) =>
                  toJobStatus(response, model, response.status === "Task not found" ? seen : 0, tolerance)
                )
              )
            )
          ),
        result: (handle, output) =>
          // The signed URL expires in minutes: download right away so the result carries bytes.
          ImageFiles.download(output.sample, {
            provider: providerId,
            requestId: handle.submitted.id,
            ...(options.download?.timeout === undefined ? {} : { timeout: options.download.timeout }),
            ...(options.download?.retry === undefined ? {} : { retry: options.download.retry })
          }).pipe(
            Effect.provide(context),
            Effect.map(({ bytes, mediaType }): ProviderResult => {
              const credits = handle.submitted.cost ?? undefined
              const units: Record<string, number> = {}
              if (credits !== undefined) units.credits = credits
              if (typeof handle.submitted.input_mp === "number") units.input_mp = handle.submitted.input_mp
              if (typeof handle.submitted.output_mp === "number") units.output_mp = handle.submitted.output_mp
              const seed = output.seed ?? (typeof wire.body.seed === "number" ? wire.body.seed : undefined)
              return {
                requestId: handle.submitted.id,
                images: [
                  new GeneratedImage({
                    bytes,
                    url: output.sample,
                    mediaType: mediaType === "application/octet-stream"
                      ? mediaTypeOfFormat(wire.outputFormat)
                      : mediaType,
                    ...(wire.width === undefined ? {} : { width: wire.width }),
                    ...(wire.height === undefined ? {} : { height: wire.height }),
                    ...(seed === undefined || seed === null ? {} : { seed }),
                    ...(typeof output.prompt === "string" && output.prompt !== wire.body.prompt
                      ? { revisedPrompt: output.prompt }
                      : {})
                  })
                ],
                ...(credits === undefined ? {} : { costUsd: Math.round(credits * 100) / 10_000 }),
                ...(Object.keys(units).length === 0 ? {} : { usage: { units } }),
                raw: { submit: handle.submitted, result: output }
              }
            })
          )
        // No `cancel`: BFL's API has no cancel endpoint.
      }, { schedule, deadline, ...(options.stepRetry === undefined ? {} : { stepRetry: options.stepRetry }) })
    })

  return (call: ImageProvider.ProviderCall): Effect.Effect<ProviderResult, ImageError.ImageError> =>
    Effect.gen(function*() {
      const { model, request } = call
      const wire = yield* toWire(request, model)
      if (call.n <= 1) return yield* one(model, wire)
      // One image per job: n jobs side by side, seeds moving on by one so images differ.
      const results = yield* Effect.forEach(
        Array.from({ length: call.n }, (_, i) => i),
        (i) =>
          one(
            model,
            typeof wire.body.seed === "number"
              ? { ...wire, body: { ...wire.body, seed: (wire.body.seed + i) % 4_294_967_296 } }
              : wire
          ),
        { concurrency: call.n }
      )
      const costs = results.map((r) => r.costUsd)
      return {
        requestId: results.map((r) => r.requestId).join(","),
        images: results.flatMap((r) => r.images),
        costUsd: costs.every((c) => c !== undefined) ? costs.reduce((a: number, b) => a + b!, 0) : undefined,
        raw: results.map((r) => r.raw)
      } satisfies ProviderResult
    })
}

/**
 * Builds the provider service over a `BflClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, BflClient.BflClient | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* BflClient.BflClient
    const context = yield* Effect.context<HttpClient.HttpClient>()
    return ImageProvider.make({
      id: providerId,
      telemetryName: "black_forest_labs",
      serverAddress: ProviderHttp.hostOf(client.apiUrl),
      catalog,
      generate: generateWith(client, context, options)
    })
  })

/**
 * The provider over an existing `BflClient` layer.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerWithClient = (
  options: Options = {}
): Layer.Layer<ImageProvider.ImageProvider, never, BflClient.BflClient | HttpClient.HttpClient> =>
  Layer.effect(ImageProvider.ImageProvider, make(options))

/**
 * The provider with an explicit key.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: BflClient.Options & Options
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  layerWithClient(options).pipe(Layer.provide(BflClient.layer(options)))

/**
 * The provider configured from the environment: `BFL_API_KEY` (required), `BFL_BASE_URL` (default
 * `https://api.bfl.ai`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: BflClient.ConfigOptions & Options = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(Config.option(Config.duration("BFL_DEADLINE")), (deadline) => {
      // The env var sets the deadline unless the caller gave one.
      const withDeadline = options.deadline === undefined && Option.isSome(deadline)
        ? { ...options, deadline: deadline.value }
        : options
      return layerWithClient(withDeadline).pipe(Layer.provide(BflClient.layerConfig(options)))
    })
  )

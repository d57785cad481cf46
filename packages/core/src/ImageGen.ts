/**
 * The router: one service over every installed provider. It resolves model addresses, validates
 * requests before any network call, retries each provider call on a `Schedule`, moves along fallback
 * chains, splits large n into bounded concurrent calls, saves results atomically, and reports
 * everything as spans, metrics, progress events and one log record per request.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Mailbox from "effect/Mailbox"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as Catalog from "./Catalog.js"
import * as ImageError from "./ImageError.js"
import * as ImageFiles from "./ImageFiles.js"
import * as ImageProvider from "./ImageProvider.js"
import * as ImageRequest from "./ImageRequest.js"
import * as ImageResult from "./ImageResult.js"
import * as Polling from "./Polling.js"
import * as Progress from "./Progress.js"
import * as Retry from "./Retry.js"
import * as Telemetry from "./Telemetry.js"

/**
 * Per-call options.
 *
 * @since 0.1.0
 * @category Models
 */
export interface GenerateOptions {
  /**
   * Save the images here (atomically). With more than one image the files are numbered:
   * `out.png` becomes `out-1.png`, `out-2.png`, ...
   */
  readonly output?: string | undefined
  /** Download URL results into `bytes` even without `output`. */
  readonly download?: boolean | undefined
  /** Overrides the router's retry policy for this call. */
  readonly retry?: Partial<Retry.RetryOptions> | undefined
  /** Which failures move on to the next model of the chain. */
  readonly shouldFallback?: ((error: ImageError.ImageError) => boolean) | undefined
  /** Refuse before any call when the estimated cost exceeds this. */
  readonly budgetUsd?: number | undefined
}

/**
 * A request resolved and validated: the models to try in order. Computing it makes no network call.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Plan {
  readonly request: ImageRequest.ImageRequest
  readonly targets: ReadonlyArray<Catalog.Resolved>
  /** The estimated cost of the primary target, when the catalog prices it. */
  readonly estimatedCostUsd: number | undefined
  /** Things the caller should know, such as a deprecated model with its replacement. */
  readonly warnings: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** Ids of the installed providers. */
  readonly providers: ReadonlyArray<string>
  /** The merged catalog of installed providers plus runtime extensions. */
  readonly catalog: Effect.Effect<Catalog.Catalog>
  /** Adds or replaces catalog entries at runtime. */
  readonly extendCatalog: (...files: ReadonlyArray<Catalog.CatalogFile>) => Effect.Effect<void>
  /** Resolves a model address. */
  readonly resolve: (address: string) => Effect.Effect<Catalog.Resolved, ImageError.ImageError>
  /** Decodes, resolves and validates a request, and checks the budget. No network call. */
  readonly plan: (
    request: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
    options?: GenerateOptions
  ) => Effect.Effect<Plan, ImageError.ImageError>
  /** Generates images. */
  readonly generate: (
    request: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
    options?: GenerateOptions
  ) => Effect.Effect<ImageResult.ImageResult, ImageError.ImageError>
  /**
   * Generates images as a stream of progress events ending with `Completed`. Stopping the stream
   * interrupts the generation, which cancels a running job at the provider.
   */
  readonly generateStream: (
    request: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
    options?: GenerateOptions
  ) => Stream.Stream<Progress.ProgressEvent, ImageError.ImageError>
  /** Runs many requests with bounded concurrency; each ends in a result or a typed error. */
  readonly generateMany: (
    requests: Iterable<ImageRequest.ImageRequest | ImageRequest.ImageRequestInput>,
    options?: GenerateOptions & { readonly concurrency?: number | undefined }
  ) => Effect.Effect<Array<Either.Either<ImageResult.ImageResult, ImageError.ImageError>>>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class ImageGen extends Context.Tag("@image-gen/core/ImageGen")<ImageGen, Service>() {}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Retry policy of each provider call. Default: from env (`Retry.config`). */
  readonly retry?: Retry.RetryOptions | undefined
  /** The model used when a request names none. Default: the only provider's default model. */
  readonly defaultModel?: string | undefined
  /** Which failures move on to the next model. Default: `defaultShouldFallback`. */
  readonly shouldFallback?: ((error: ImageError.ImageError) => boolean) | undefined
  /** Concurrent calls per provider, across all requests. Default 64. */
  readonly maxConcurrentPerProvider?: number | undefined
  /** Concurrent calls when one request's n is split into several calls. Default 4. */
  readonly splitConcurrency?: number | undefined
  /** Extra catalog data merged over the providers' own. */
  readonly catalog?: ReadonlyArray<Catalog.CatalogFile> | undefined
}

/**
 * Fallback moves on for every failure except a content block (another model would be asked to make the
 * same refused content) and a budget refusal.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaultShouldFallback = (error: ImageError.ImageError): boolean =>
  error._tag !== "ContentBlocked" && error._tag !== "BudgetExceeded"

const statusOf = (error: ImageError.ImageError): "blocked" | "failed" =>
  error._tag === "ContentBlocked" ? "blocked" : "failed"

/**
 * Builds the router over provider services.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  providerServices: ReadonlyArray<ImageProvider.Service>,
  options: Options = {}
): Effect.Effect<Service, never, HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<HttpClient.HttpClient | FileSystem.FileSystem | Path.Path>()
    const providers = new Map(providerServices.map((p) => [p.id, p] as const))
    const installed = Array.from(providers.keys())
    const catalogRef = yield* Ref.make(
      Catalog.merge(Catalog.empty, ...providerServices.map((p) => p.catalog), ...(options.catalog ?? []))
    )
    const retryDefaults = options.retry ?? Retry.defaults
    const semaphores = new Map(
      yield* Effect.forEach(installed, (id) =>
        Effect.map(Effect.makeSemaphore(options.maxConcurrentPerProvider ?? 64), (s) => [id, s] as const))
    )

    const resolve = (address: string) =>
      Effect.flatMap(Ref.get(catalogRef), (c) =>
        Catalog.resolve(c, address, installed))

    const defaultAddress = (): Effect.Effect<string, ImageError.ImageError> => {
      if (options.defaultModel !== undefined) return Effect.succeed(options.defaultModel)
      if (installed.length === 1) return Effect.succeed(`${installed[0]}:`)
      return Effect.fail(
        new ImageError.InvalidRequest({
          field: "model",
          detail: `is required when several providers are installed (${installed.join(", ")})`
        })
      )
    }

    const decode = (input: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput) =>
      input instanceof ImageRequest.ImageRequest ? Effect.succeed(input) : ImageRequest.decode(input)

    const plan = (
      input: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
      callOptions: GenerateOptions = {}
    ) =>
      Effect.gen(function*() {
        const request = yield* decode(input)
        const primary = request.model ?? (yield* defaultAddress())
        const targets = yield* Effect.forEach([primary, ...(request.fallbacks ?? [])], resolve)
        yield* Effect.forEach(targets, (target) => Catalog.validate(target, request), { discard: true })
        const estimated = Option.getOrUndefined(Catalog.estimateCost(targets[0]!.entry, request))
        if (callOptions.budgetUsd !== undefined && estimated !== undefined && estimated > callOptions.budgetUsd) {
          return yield* Effect.fail(
            new ImageError.BudgetExceeded({
              provider: targets[0]!.provider,
              model: targets[0]!.model,
              estimatedUsd: estimated,
              budgetUsd: callOptions.budgetUsd
            })
          )
        }
        if (callOptions.output !== undefined) {
          yield* ImageFiles.checkWritable(callOptions.output).pipe(Effect.provide(context))
        }
        const warnings = targets.flatMap((target) => {
          const notice = Catalog.deprecationNotice(target)
          return notice === undefined ? [] : [notice]
        })
        return { request, targets, estimatedCostUsd: estimated, warnings } satisfies Plan
      })

    /** One target: split n into calls, each retried on its own schedule, with one CLIENT span per try. */
    const runTarget = (
      request: ImageRequest.ImageRequest,
      target: Catalog.Resolved,
      retryOptions: Retry.RetryOptions,
      attempts: Ref.Ref<number>,
      retries: Ref.Ref<number>
    ) => {
      const provider = providers.get(target.provider)!
      const semaphore = semaphores.get(target.provider)!
      const n = request.n ?? 1
      const perCall = target.entry?.capabilities.maxPerCall ?? n
      const chunks = Array.from({ length: Math.ceil(n / perCall) }, (_, i) => Math.min(perCall, n - i * perCall))
      const providerName = provider.telemetryName ?? provider.id
      const chunkStart = (index: number) => chunks.slice(0, index).reduce((a, b) => a + b, 0)
      const requestFor = (offset: number) =>
        offset === 0 || request.seed === undefined
          ? request
          : new ImageRequest.ImageRequest({ ...request, seed: (request.seed + offset) % 4_294_967_296 })
      const callOnce = (count: number, offset: number, attempt: number) =>
        Effect.gen(function*() {
          yield* Ref.update(attempts, (a) => a + 1)
          yield* Progress.report(
            Progress.ProgressEvent.Started({ provider: target.provider, model: target.model, attempt })
          )
          const started = yield* Clock.currentTimeMillis
          const result = yield* semaphore.withPermits(1)(
            provider.generate({ request: requestFor(offset), model: target.model, entry: target.entry, n: count })
          ).pipe(
            Effect.tap((r) =>
              Effect.annotateCurrentSpan({
                ...(r.requestId === undefined ? {} : { [Telemetry.Attributes.responseId]: r.requestId }),
                [Telemetry.Attributes.responseModel]: target.model,
                ...(r.usage?.inputTokens === undefined
                  ? {}
                  : { [Telemetry.Attributes.inputTokens]: r.usage.inputTokens }),
                ...(r.usage?.outputTokens === undefined ?
                  {} :
                  { [Telemetry.Attributes.outputTokens]: r.usage.outputTokens })
              })
            ),
            Effect.tapError((e) => Effect.annotateCurrentSpan(Telemetry.Attributes.errorType, e._tag)),
            Effect.onExit((exit) =>
              Effect.flatMap(Clock.currentTimeMillis, (now) =>
                Metric.update(
                  Telemetry.tagged(Telemetry.operationDuration, {
                    [Telemetry.Attributes.providerName]: providerName,
                    [Telemetry.Attributes.requestModel]: target.model,
                    [Telemetry.Attributes.operationName]: Telemetry.operationName,
                    ...(Exit.isFailure(exit) ? { [Telemetry.Attributes.errorType]: errorTag(exit) } : {})
                  }),
                  (now - started) / 1000
                ))
            ),
            Effect.withSpan(`${Telemetry.operationName} ${target.model}`, {
              kind: "client",
              captureStackTrace: false,
              attributes: {
                [Telemetry.Attributes.operationName]: Telemetry.operationName,
                [Telemetry.Attributes.providerName]: providerName,
                [Telemetry.Attributes.requestModel]: target.model,
                [Telemetry.Attributes.outputType]: target.entry?.output ?? "image",
                ...(count === 1 ? {} : { [Telemetry.Attributes.choiceCount]: count }),
                ...(request.seed === undefined ? {} : { [Telemetry.Attributes.seed]: request.seed }),
                ...(provider.serverAddress === undefined ?
                  {} :
                  { [Telemetry.Attributes.serverAddress]: provider.serverAddress }),
                "image_gen.attempt": attempt
              }
            })
          )
          return result
        })
      // Each split call gets its share of n; with a seed, the seed moves on by the images before it so a
      // provider seeding image i with seed + i does not repeat images across calls.
      const callWithRetry = (count: number, index: number) =>
        Retry.retry((attempt) => callOnce(count, chunkStart(index), attempt), retryOptions, {
          onRetry: ({ attempt, delay, error }) =>
            Effect.all([
              Ref.update(retries, (n) => n + 1),
              Metric.increment(
                Telemetry.tagged(Telemetry.retries, {
                  provider: target.provider,
                  model: target.model,
                  error_type: error._tag
                })
              ),
              spanEvent("image_gen.retry", {
                "image_gen.attempt": attempt,
                "image_gen.retry.delay_ms": Duration.toMillis(delay),
                [Telemetry.Attributes.errorType]: error._tag,
                [Telemetry.Attributes.providerName]: providerName,
                [Telemetry.Attributes.requestModel]: target.model
              }),
              Progress.report(
                Progress.ProgressEvent.Retrying({
                  provider: target.provider,
                  model: target.model,
                  attempt,
                  delayMs: Duration.toMillis(delay),
                  reason: error.message
                })
              )
            ], { discard: true })
        })
      return Effect.forEach(chunks, callWithRetry, { concurrency: options.splitConcurrency ?? 4 }).pipe(
        Effect.map((results): ImageResult.ProviderResult => {
          if (results.length === 1) return results[0]!
          const costs = results.map((r) => r.costUsd)
          return {
            requestId: results.map((r) => r.requestId).filter((id) => id !== undefined).join(","),
            images: results.flatMap((r) => r.images),
            costUsd: costs.every((c) => c !== undefined) ? costs.reduce((a, b) => a + b, 0) : undefined,
            raw: results.map((r) => r.raw)
          }
        })
      )
    }

    /** Saves or downloads result images as asked. */
    const materialize = (
      result: ImageResult.ProviderResult,
      target: Catalog.Resolved,
      callOptions: GenerateOptions
    ) =>
      Effect.forEach(result.images, (image, index) =>
        Effect.gen(function*() {
          const origin = { provider: target.provider, requestId: result.requestId }
          if (callOptions.output !== undefined) {
            const path = numbered(callOptions.output, index, result.images.length)
            if (image.bytes !== undefined) {
              yield* ImageFiles.saveBytes(image.bytes, path).pipe(
                Effect.mapError((e) => result.requestId === undefined ? e : Polling.withRequestId(e, result.requestId))
              )
              return new ImageResult.GeneratedImage({ ...image, path })
            }
            if (image.url !== undefined) {
              yield* Progress.report(Progress.ProgressEvent.Downloading({ provider: target.provider, url: image.url }))
              const saved = yield* ImageFiles.saveUrl(image.url, path, origin)
              return new ImageResult.GeneratedImage({ ...image, path, mediaType: image.mediaType || saved.mediaType })
            }
          } else if (callOptions.download === true && image.bytes === undefined && image.url !== undefined) {
            yield* Progress.report(Progress.ProgressEvent.Downloading({ provider: target.provider, url: image.url }))
            const { bytes } = yield* ImageFiles.download(image.url, origin)
            return new ImageResult.GeneratedImage({ ...image, bytes })
          }
          return image
        }), { concurrency: 4 }).pipe(Effect.provide(context))

    const generate = (
      input: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
      callOptions: GenerateOptions = {}
    ): Effect.Effect<ImageResult.ImageResult, ImageError.ImageError> =>
      Effect.gen(function*() {
        const startedAt = yield* Clock.currentTimeMillis
        const attempts = yield* Ref.make(0)
        const retries = yield* Ref.make(0)
        const outcome = yield* Ref.make<{ provider: string; model: string; fallbackUsed: boolean }>({
          provider: "none",
          model: "none",
          fallbackUsed: false
        })
        const correlationId = yield* Ref.make<string | undefined>(undefined)
        const notices = yield* Ref.make<ReadonlyArray<string>>([])
        const finished = yield* Ref.make<ImageResult.ImageResult | undefined>(undefined)

        const body = Effect.gen(function*() {
          const { estimatedCostUsd, request, targets, warnings } = yield* plan(input, callOptions)
          yield* Ref.set(notices, warnings)
          yield* Ref.set(correlationId, request.correlationId)
          if (request.correlationId !== undefined) {
            yield* Effect.annotateCurrentSpan("image_gen.correlation_id", request.correlationId)
          }
          const retryOptions: Retry.RetryOptions = { ...retryDefaults, ...callOptions.retry }
          const shouldFallback = callOptions.shouldFallback ?? options.shouldFallback ?? defaultShouldFallback
          const failures: Array<ImageError.AttemptFailure> = []

          // The chain: each target with its own retries, then `orElse` the next one while the predicate allows.
          const attempt = (index: number): Effect.Effect<
            { result: ImageResult.ProviderResult; target: Catalog.Resolved; index: number },
            ImageError.ImageError
          > => {
            const target = targets[index]!
            return Ref.set(outcome, { provider: target.provider, model: target.model, fallbackUsed: index > 0 }).pipe(
              Effect.zipRight(runTarget(request, target, retryOptions, attempts, retries)),
              Effect.map((result) => ({ result, target, index })),
              Effect.catchAll((error) => {
                failures.push({ provider: target.provider, model: target.model, error })
                const next = targets[index + 1]
                if (next === undefined || !shouldFallback(error)) {
                  return Effect.fail(failures.length > 1 ? new ImageError.FallbackExhausted({ failures }) : error)
                }
                return Effect.all([
                  Metric.increment(Telemetry.tagged(Telemetry.fallbacks, { from: target.provider, to: next.provider })),
                  spanEvent("image_gen.fallback", {
                    "image_gen.fallback.from": `${target.provider}:${target.model}`,
                    "image_gen.fallback.to": `${next.provider}:${next.model}`,
                    [Telemetry.Attributes.errorType]: error._tag
                  }),
                  Progress.report(
                    Progress.ProgressEvent.FallingBack({
                      from: `${target.provider}:${target.model}`,
                      to: `${next.provider}:${next.model}`,
                      reason: error.message
                    })
                  )
                ], { discard: true }).pipe(Effect.zipRight(attempt(index + 1)))
              })
            )
          }
          const { index, result, target } = yield* attempt(0)
          const downloadStart = yield* Clock.currentTimeMillis
          const images = yield* materialize(result, target, callOptions)
          const now = yield* Clock.currentTimeMillis
          const costUsd = result.costUsd ?? (index === 0 ?
            estimatedCostUsd :
            Option.getOrUndefined(Catalog.estimateCost(target.entry, request)))
          const final = new ImageResult.ImageResult({
            requestId: result.requestId ?? `ig-${crypto.randomUUID()}`,
            provider: target.provider,
            model: target.model,
            status: "completed",
            images,
            ...(costUsd === undefined ? {} : { costUsd }),
            ...(result.usage === undefined ? {} : { usage: result.usage }),
            timings: {
              startedAt,
              latencyMs: now - startedAt,
              ...(result.queueMs === undefined ? {} : { queueMs: result.queueMs }),
              ...(images.some((i) => i.path !== undefined) ? { downloadMs: now - downloadStart } : {})
            },
            attempts: yield* Ref.get(attempts),
            fallbackUsed: index > 0,
            ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
            ...(result.raw === undefined ? {} : { raw: result.raw })
          })
          yield* Ref.set(finished, final)
          return final
        })

        return yield* body.pipe(
          Effect.onExit((exit) =>
            Effect.gen(function*() {
              const now = yield* Clock.currentTimeMillis
              const result = yield* Ref.get(finished)
              const tries = yield* Ref.get(attempts)
              const error = Exit.isFailure(exit) ? failureOf(exit.cause) : undefined
              // A request refused before any call still names the model it was refused for.
              const { fallbackUsed, model, provider } = yield* Ref.get(outcome).pipe(
                Effect.map((o) => o.provider === "none" && error !== undefined ? { ...o, ...addressOf(error) } : o)
              )
              const status = result !== undefined ? "completed" : error === undefined ? "failed" : statusOf(error)
              yield* Metric.increment(Telemetry.tagged(Telemetry.requests, { provider, model, status }))
              yield* Metric.update(Telemetry.tagged(Telemetry.latency, { provider, model }), (now - startedAt) / 1000)
              if (result?.costUsd !== undefined && result.costUsd > 0) {
                yield* Metric.incrementBy(Telemetry.tagged(Telemetry.costUsd, { provider, model }), result.costUsd)
              }
              yield* Effect.annotateCurrentSpan({
                [Telemetry.Attributes.providerName]: provider,
                [Telemetry.Attributes.requestModel]: model,
                "image_gen.status": status,
                "image_gen.attempts": tries,
                "image_gen.fallback_used": fallbackUsed,
                ...(result?.costUsd === undefined ? {} : { "image_gen.cost_usd": result.costUsd })
              })
              if (Exit.isInterrupted(exit) && error === undefined) return
              yield* Telemetry.logRequest({
                request_id: result?.requestId ?? requestIdOf(error) ?? "none",
                provider,
                model,
                latency_ms: now - startedAt,
                status,
                bytes_out: result?.images.reduce((n, i) => n + (i.bytes?.byteLength ?? 0), 0) ?? 0,
                cost_usd: result?.costUsd ?? null,
                retry_count: yield* Ref.get(retries),
                fallback_used: fallbackUsed,
                correlation_id: (yield* Ref.get(correlationId)) ?? null,
                ...(yield* Effect.map(Ref.get(notices), (n) => n.length === 0 ? {} : { warnings: n.join("; ") })),
                ...(error === undefined ? {} : { error_type: error._tag, error: error.message })
              })
            })
          ),
          Effect.withSpan("image_gen.generate", {
            captureStackTrace: false,
            attributes: { [Telemetry.Attributes.operationName]: Telemetry.operationName }
          })
        )
      })

    const generateStream = (
      input: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
      callOptions: GenerateOptions = {}
    ): Stream.Stream<Progress.ProgressEvent, ImageError.ImageError> =>
      Stream.unwrapScoped(
        Effect.gen(function*() {
          const mailbox = yield* Mailbox.make<Progress.ProgressEvent, ImageError.ImageError>()
          yield* generate(input, callOptions).pipe(
            Effect.provideService(Progress.ProgressReporter, {
              report: (event) => Effect.asVoid(mailbox.offer(event))
            }),
            Effect.flatMap((result) => mailbox.offer(Progress.ProgressEvent.Completed({ result }))),
            Effect.exit,
            Effect.flatMap((exit) => mailbox.done(Exit.asVoid(exit))),
            Effect.forkScoped
          )
          return Mailbox.toStream(mailbox)
        })
      )

    const generateMany: Service["generateMany"] = (requests, callOptions = {}) =>
      Effect.forEach(
        Array.from(requests),
        (request, i) =>
          Effect.either(generate(request, {
            ...callOptions,
            ...(callOptions.output === undefined ? {} : { output: numbered(callOptions.output, i, 2) })
          })),
        { concurrency: callOptions.concurrency ?? 8 }
      )

    return ImageGen.of({
      providers: installed,
      catalog: Ref.get(catalogRef),
      extendCatalog: (...files) => Ref.update(catalogRef, (c) => Catalog.merge(c, ...files)),
      resolve,
      plan,
      generate,
      generateStream,
      generateMany
    })
  })

/**
 * The router as a Layer over provider Layers. Each provider Layer is built once; the retry policy comes
 * from `options.retry` or from the environment (`IMAGE_GEN_RETRY_ATTEMPTS`, `IMAGE_GEN_RETRY_MAX_WAIT`).
 *
 * ```ts
 * ImageGen.layer([LocalProvider.layer(), FalProvider.layerConfig()])
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = <
  const Providers extends ReadonlyArray<Layer.Layer<ImageProvider.ImageProvider, unknown, unknown>>
>(
  providers: Providers,
  options: Options = {}
): Layer.Layer<
  ImageGen,
  Layer.Layer.Error<Providers[number]>,
  Layer.Layer.Context<Providers[number]> | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> =>
  Layer.scoped(
    ImageGen,
    Effect.gen(function*() {
      const services = yield* Effect.forEach(providers, (providerLayer) =>
        Effect.map(
          Layer.build(
            providerLayer as Layer.Layer<
              ImageProvider.ImageProvider,
              Layer.Layer.Error<Providers[number]>,
              Layer.Layer.Context<Providers[number]>
            >
          ),
          (ctx) => Context.get(ctx, ImageProvider.ImageProvider)
        ))
      const retry = options.retry ?? (yield* Effect.orElseSucceed(Retry.config, () => Retry.defaults))
      return yield* make(services, { ...options, retry })
    })
  )

/**
 * @since 0.1.0
 * @category Accessors
 */
export const generate = (
  request: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
  options?: GenerateOptions
): Effect.Effect<ImageResult.ImageResult, ImageError.ImageError, ImageGen> =>
  Effect.flatMap(ImageGen, (gen) => gen.generate(request, options))

/**
 * @since 0.1.0
 * @category Accessors
 */
export const generateStream = (
  request: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
  options?: GenerateOptions
): Stream.Stream<Progress.ProgressEvent, ImageError.ImageError, ImageGen> =>
  Stream.unwrap(Effect.map(ImageGen, (gen) => gen.generateStream(request, options)))

/**
 * `out.png` for a single image, `out-1.png`, `out-2.png`, ... for several.
 *
 * @since 0.1.0
 * @category Utils
 */
export const numbered = (path: string, index: number, count: number): string => {
  if (count <= 1) return path
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"))
  const dot = path.lastIndexOf(".")
  return dot > slash + 1 ? `${path.slice(0, dot)}-${index + 1}${path.slice(dot)}` : `${path}-${index + 1}`
}

const spanEvent = (name: string, attributes: Record<string, unknown>): Effect.Effect<void> =>
  Effect.flatMap(
    Effect.option(Effect.currentSpan),
    Option.match({
      onNone: () => Effect.void,
      onSome: (span) =>
        Effect.flatMap(Clock.currentTimeNanos, (now) => Effect.sync(() => span.event(name, now, attributes)))
    })
  )

const failureOf = (cause: Cause.Cause<ImageError.ImageError>): ImageError.ImageError | undefined =>
  Option.getOrUndefined(Cause.failureOption(cause))

const errorTag = (exit: Exit.Exit<unknown, ImageError.ImageError>): string =>
  Exit.isFailure(exit) ? failureOf(exit.cause)?._tag ?? "interrupted" : "none"

const addressOf = (error: ImageError.ImageError): { provider: string; model: string } => {
  const e = error as { readonly provider?: unknown; readonly model?: unknown }
  return {
    provider: typeof e.provider === "string" ? e.provider : "none",
    model: typeof e.model === "string" ? e.model : "none"
  }
}

const requestIdOf = (error: ImageError.ImageError | undefined): string | undefined =>
  error !== undefined && "requestId" in error && typeof error.requestId === "string" ? error.requestId : undefined

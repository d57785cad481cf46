/**
 * The polling engine for job providers: submit once, then watch the job on a per-provider `Schedule`
 * until it finishes, with a deadline, progress events, and remote cancel on interruption. A failed status
 * check or result fetch is retried on its own and never causes a second submission.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as ImageError from "./ImageError.js"
import type { ProviderResult } from "./ImageResult.js"
import * as Progress from "./Progress.js"
import * as Retry from "./Retry.js"

/**
 * What a status check says about a job.
 *
 * @since 0.1.0
 * @category Models
 */
export type JobStatus<Output> = Data.TaggedEnum<{
  Queued: { readonly position?: number | undefined }
  Running: { readonly logs?: ReadonlyArray<string> | undefined; readonly percent?: number | undefined }
  Completed: { readonly output: Output }
  Failed: { readonly error: ImageError.ImageError }
}>

interface JobStatusDefinition extends Data.TaggedEnum.WithGenerics<1> {
  readonly taggedEnum: JobStatus<this["A"]>
}

/**
 * Constructors: `JobStatus.Queued({ position })`, `JobStatus.Running({ logs })`,
 * `JobStatus.Completed({ output })`, `JobStatus.Failed({ error })`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const JobStatus = Data.taggedEnum<JobStatusDefinition>()

/**
 * A provider's job protocol. `Handle` is whatever the provider needs to address the job (an id, status
 * and cancel URLs); `Output` is what a completed status carries.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Job<Handle, Output> {
  readonly provider: string
  readonly model: string
  /** The paid step. Runs once; the engine never repeats it. */
  readonly submit: Effect.Effect<Handle, ImageError.ImageError>
  /** The provider's id of the job, for progress, errors and recovery. */
  readonly requestId: (handle: Handle) => string
  /** One status check. */
  readonly status: (handle: Handle) => Effect.Effect<JobStatus<Output>, ImageError.ImageError>
  /**
   * Status pushed by the provider (for example fal's SSE stream). When it fails or ends before a final
   * status, the engine falls back to polling `status`.
   */
  readonly watch?: ((handle: Handle) => Stream.Stream<JobStatus<Output>, ImageError.ImageError>) | undefined
  /** Turns a completed status into images (fetching the result if the provider needs a second call). */
  readonly result: (handle: Handle, output: Output) => Effect.Effect<ProviderResult, ImageError.ImageError>
  /** Cancels the job at the provider, where its API allows. */
  readonly cancel?: ((handle: Handle) => Effect.Effect<void, ImageError.ImageError>) | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface PollOptions {
  /** The cadence of status checks. Default: every second. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** The longest a job may take from submission to result. Default: 10 minutes. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Retries of one failed status check or result fetch. Default: 5 tries, waits up to 8 seconds. */
  readonly stepRetry?: Retry.RetryOptions | undefined
}

/**
 * @since 0.1.0
 * @category Defaults
 */
export const defaultStepRetry: Retry.RetryOptions = {
  attempts: 5,
  maxWait: Duration.seconds(8),
  baseDelay: Duration.millis(250)
}

/**
 * Runs a job to completion: submit, then status checks until a final status, then the result.
 *
 * - The deadline covers everything after submission; when it passes, or when the caller interrupts, the
 *   job is cancelled at the provider.
 * - A status check or result fetch that fails with a retryable error is retried by itself. If it keeps
 *   failing, the error becomes `JobFailed` carrying the provider's request id, so nothing above retries by
 *   submitting again.
 *
 * @since 0.1.0
 * @category Running
 */
export const run = <Handle, Output>(
  job: Job<Handle, Output>,
  options: PollOptions = {}
): Effect.Effect<ProviderResult, ImageError.ImageError> => {
  const deadline = Duration.decode(options.deadline ?? Duration.minutes(10))
  const cadence = options.schedule ?? Schedule.spaced(Duration.seconds(1))
  const stepRetry = options.stepRetry ?? defaultStepRetry
  return Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      // Submission is not interruptible: once the provider accepts a job we must learn its handle so an
      // interruption can cancel it instead of leaving a paid job running unseen.
      const handle = yield* job.submit
      const requestId = job.requestId(handle)
      yield* Effect.annotateCurrentSpan(`${job.provider}.request_id`, requestId)
      yield* Progress.report(Progress.ProgressEvent.Submitted({ provider: job.provider, model: job.model, requestId }))
      const lastStatus = yield* Ref.make<string | undefined>(undefined)
      const afterSubmit = follow(job, handle, requestId, cadence, stepRetry, lastStatus).pipe(
        Effect.timeout(deadline),
        Effect.catchTag("TimeoutException", () =>
          Effect.flatMap(Ref.get(lastStatus), (status) =>
            Effect.zipRight(
              cancel(job, handle),
              Effect.fail(
                new ImageError.PollDeadline({
                  provider: job.provider,
                  model: job.model,
                  requestId,
                  deadlineMillis: Duration.toMillis(deadline),
                  ...(status === undefined ? {} : { lastStatus: status })
                })
              )
            )))
      )
      return yield* restore(afterSubmit).pipe(Effect.onInterrupt(() => cancel(job, handle)))
    })
  )
}

const cancel = <Handle, Output>(job: Job<Handle, Output>, handle: Handle): Effect.Effect<void> =>
  job.cancel === undefined
    ? Effect.void
    : job.cancel(handle).pipe(
      Effect.timeout(Duration.seconds(10)),
      Effect.tapErrorCause((cause) => Effect.logDebug("remote cancel failed", cause)),
      Effect.ignore,
      Effect.withSpan("image_gen.cancel", { attributes: { "gen_ai.provider.name": job.provider } })
    )

const follow = <Handle, Output>(
  job: Job<Handle, Output>,
  handle: Handle,
  requestId: string,
  cadence: Schedule.Schedule<unknown, unknown>,
  stepRetry: Retry.RetryOptions,
  lastStatus: Ref.Ref<string | undefined>
): Effect.Effect<ProviderResult, ImageError.ImageError> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const step = <A>(what: string, effect: Effect.Effect<A, ImageError.ImageError>) =>
      Retry.retry(() => effect, stepRetry).pipe(
        Effect.mapError((error) => afterAcceptance(job, requestId, what, error))
      )
    const observe = (status: JobStatus<Output>) =>
      Effect.gen(function*() {
        yield* Ref.set(lastStatus, status._tag)
        const elapsedMs = (yield* Clock.currentTimeMillis) - started
        if (status._tag === "Queued") {
          yield* Progress.report(
            Progress.ProgressEvent.Queued({ provider: job.provider, requestId, position: status.position, elapsedMs })
          )
        } else if (status._tag === "Running") {
          yield* Progress.report(
            Progress.ProgressEvent.Running({
              provider: job.provider,
              requestId,
              logs: status.logs ?? [],
              percent: status.percent,
              elapsedMs
            })
          )
        }
      })
    const isFinal = (status: JobStatus<Output>) => status._tag === "Completed" || status._tag === "Failed"

    const pushed: Effect.Effect<Option.Option<JobStatus<Output>>> = job.watch === undefined
      ? Effect.succeedNone
      : job.watch(handle).pipe(
        Stream.tap(observe),
        Stream.takeUntil(isFinal),
        Stream.runLast,
        Effect.map(Option.filter(isFinal)),
        // A broken stream is not a failed job: fall back to polling.
        Effect.orElseSucceed(() => Option.none())
      )
    const polled = step("status check", job.status(handle)).pipe(
      Effect.tap(observe),
      Effect.repeat({
        schedule: cadence.pipe(Schedule.zipRight(Schedule.identity<JobStatus<Output>>())),
        until: isFinal
      })
    )
    const final = yield* Effect.flatMap(pushed, Option.match({ onNone: () => polled, onSome: Effect.succeed }))
    if (final._tag === "Failed") return yield* Effect.fail(withRequestId(final.error, requestId))
    if (final._tag !== "Completed") {
      return yield* Effect.fail(
        new ImageError.MalformedResponse({
          provider: job.provider,
          model: job.model,
          requestId,
          detail: "job ended without a final status"
        })
      )
    }
    const result = yield* step("result fetch", job.result(handle, final.output))
    const queueMs = result.queueMs
    return { ...result, requestId: result.requestId ?? requestId, ...(queueMs === undefined ? {} : { queueMs }) }
  })

/**
 * An error after the provider accepted the job must not make anything above submit again: retryable
 * errors become `JobFailed`, and every error carries the request id.
 */
const afterAcceptance = <Handle, Output>(
  job: Job<Handle, Output>,
  requestId: string,
  what: string,
  error: ImageError.ImageError
): ImageError.ImageError =>
  error.retryable
    ? new ImageError.JobFailed({
      provider: job.provider,
      model: job.model,
      requestId,
      detail: `${what} kept failing (${error.message}); the job may still finish at the provider`,
      cause: error
    })
    : withRequestId(error, requestId)

const carriesRequestId = new Set<ImageError.ImageError["_tag"]>([
  "RateLimited",
  "ProviderUnavailable",
  "TransportError",
  "RequestTimeout",
  "AuthenticationError",
  "InvalidRequest",
  "ContentBlocked",
  "JobFailed",
  "PollDeadline",
  "DownloadFailed",
  "SaveFailed",
  "MalformedResponse"
])

/**
 * Adds the provider's request id to an error that has a slot for it and lacks one, so a user can find a
 * paid job again.
 *
 * @since 0.1.0
 * @category Utils
 */
export const withRequestId = <E extends ImageError.ImageError>(error: E, requestId: string): E =>
  carriesRequestId.has(error._tag) && (error as { readonly requestId?: string | undefined }).requestId === undefined
    ? Object.assign(Object.create(Object.getPrototypeOf(error)) as E, error, { requestId })
    : error

/**
 * Retry policy as a `Schedule`: exponential backoff with jitter, each wait capped, honouring the
 * provider's `Retry-After`, only for retryable errors.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as ImageError from "./ImageError.js"

/**
 * @since 0.1.0
 * @category Models
 */
export interface RetryOptions {
  /** Total tries of one call, the first included. 1 disables retries. */
  readonly attempts: number
  /** The longest single wait. A provider asking for a longer `Retry-After` is not retried. */
  readonly maxWait: Duration.DurationInput
  /** The first backoff delay, doubled on each retry. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** Which errors are retried; defaults to `ImageError.isRetryable`. */
  readonly while?: ((error: ImageError.ImageError) => boolean) | undefined
}

/**
 * `attempts: 3`, `maxWait: 8 seconds`, `baseDelay: 500 millis`.
 *
 * @since 0.1.0
 * @category Defaults
 */
export const defaults: RetryOptions = { attempts: 3, maxWait: Duration.seconds(8), baseDelay: Duration.millis(500) }

/**
 * Reads `IMAGE_GEN_RETRY_ATTEMPTS` (default 3) and `IMAGE_GEN_RETRY_MAX_WAIT` (seconds or a duration such
 * as `8 seconds`; default 8s).
 *
 * @since 0.1.0
 * @category Configuration
 */
export const config: Config.Config<RetryOptions> = Config.all({
  attempts: Config.integer("IMAGE_GEN_RETRY_ATTEMPTS").pipe(
    Config.validate({ message: "IMAGE_GEN_RETRY_ATTEMPTS must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(3)
  ),
  maxWait: Config.number("IMAGE_GEN_RETRY_MAX_WAIT").pipe(
    Config.map((seconds) => Duration.seconds(seconds)),
    Config.orElse(() => Config.duration("IMAGE_GEN_RETRY_MAX_WAIT")),
    Config.withDefault(Duration.seconds(8))
  )
}).pipe(Config.map((o): RetryOptions => ({ ...o, baseDelay: defaults.baseDelay })))

/**
 * The schedule of a policy. Its input is the failure; each delay is `max(backoff, Retry-After)`, and it
 * stops on a non-retryable error, after `attempts - 1` retries, or when `Retry-After` exceeds `maxWait`.
 *
 * @since 0.1.0
 * @category Schedules
 */
export const schedule = (
  options: RetryOptions
): Schedule.Schedule<Duration.Duration, ImageError.ImageError> => {
  const maxWait = Duration.decode(options.maxWait)
  const retryable = options.while ?? ImageError.isRetryable
  const backoff = Schedule.exponential(options.baseDelay ?? Duration.millis(500)).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((d) => Duration.min(d, maxWait))
  )
  const honourRetryAfter = Schedule.identity<ImageError.ImageError>().pipe(
    Schedule.addDelay((error) => ImageError.retryAfter(error) ?? Duration.zero)
  )
  return backoff.pipe(
    Schedule.intersect(Schedule.recurs(Math.max(0, options.attempts - 1))),
    Schedule.intersect(honourRetryAfter),
    Schedule.whileInput((error: ImageError.ImageError) => {
      const wait = ImageError.retryAfter(error)
      return retryable(error) && (wait === undefined || Duration.lessThanOrEqualTo(wait, maxWait))
    }),
    Schedule.map(([[delay]]) => delay)
  )
}

/**
 * What `retry` tells its observer before each wait.
 *
 * @since 0.1.0
 * @category Models
 */
export interface RetryEvent {
  /** The try that failed, counting from 1. */
  readonly attempt: number
  readonly error: ImageError.ImageError
  readonly delay: Duration.Duration
}

/**
 * Runs `effect` under a policy. `onRetry` runs before every wait (for span events, metrics, progress).
 * The last failure is returned as is.
 *
 * @since 0.1.0
 * @category Combinators
 */
export const retry = <A, R, R2 = never>(
  effect: (attempt: number) => Effect.Effect<A, ImageError.ImageError, R>,
  options: RetryOptions,
  hooks: {
    readonly onRetry?: ((event: RetryEvent) => Effect.Effect<void, never, R2>) | undefined
  } = {}
): Effect.Effect<A, ImageError.ImageError, R | R2> =>
  Effect.gen(function*() {
    const policy = schedule(options)
    let state = policy.initial
    let attempt = 1
    while (true) {
      const exit = yield* Effect.either(effect(attempt))
      if (exit._tag === "Right") return exit.right
      const error = exit.left
      // Step the schedule by hand so the retry event can carry the real delay before sleeping.
      const now = yield* Clock.currentTimeMillis
      const [next, , decision] = yield* policy.step(now, error, state)
      if (ScheduleDecision.isDone(decision)) return yield* Effect.fail(error)
      state = next
      const delay = Duration.millis(Math.max(0, ScheduleIntervals.start(decision.intervals) - now))
      if (hooks.onRetry !== undefined) yield* hooks.onRetry({ attempt, error, delay })
      yield* Effect.sleep(delay)
      attempt++
    }
  })

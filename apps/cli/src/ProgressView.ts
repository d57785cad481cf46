/**
 * Progress of a generation on stderr, drawn only when stderr is a terminal: one status line updated in
 * place (which model, queue position, percent, elapsed seconds), and a permanent line for each retry and
 * fallback. Off a terminal it prints nothing, so logs and pipes stay clean.
 *
 * @since 0.1.0
 */
import type { Progress } from "@image-gen/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { CliEnv } from "./CliEnv.js"

/**
 * @since 0.1.0
 * @category Models
 */
export interface ProgressView {
  readonly onEvent: (event: Progress.ProgressEvent) => Effect.Effect<void>
  /** Clears the status line. */
  readonly clear: Effect.Effect<void>
}

const noop: ProgressView = { onEvent: () => Effect.void, clear: Effect.void }

const clearLine = "\r\u001b[2K"

/**
 * What the status line says for an event; `undefined` leaves it as it is.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const statusOf = (event: Progress.ProgressEvent): string | undefined => {
  switch (event._tag) {
    case "Started":
      return event.attempt > 1
        ? `generating with ${event.provider}:${event.model} (attempt ${event.attempt})`
        : `generating with ${event.provider}:${event.model}`
    case "Submitted":
      return `submitted to ${event.provider} (request ${event.requestId}), waiting`
    case "Queued":
      return event.position === undefined
        ? `queued at ${event.provider}`
        : `queued at ${event.provider}, position ${event.position}`
    case "Running": {
      const percent = event.percent === undefined ? "" : ` ${Math.round(event.percent)}%`
      const last = event.logs.length === 0 ? "" : `: ${event.logs[event.logs.length - 1]!.slice(0, 60)}`
      return `running at ${event.provider}${percent}${last}`
    }
    case "Downloading":
      return `downloading the result from ${event.provider}`
    default:
      return undefined
  }
}

/**
 * The permanent line for an event that changes the course of the request (retries, fallbacks).
 *
 * @since 0.1.0
 * @category Rendering
 */
export const noticeOf = (event: Progress.ProgressEvent): string | undefined => {
  switch (event._tag) {
    case "Retrying":
      return `attempt ${event.attempt} with ${event.provider}:${event.model} failed (${event.reason}); retrying in ${
        Duration.format(Duration.millis(Math.round(event.delayMs)))
      }`
    case "FallingBack":
      return `${event.from} failed (${event.reason}); falling back to ${event.to}`
    default:
      return undefined
  }
}

/**
 * A view for the current terminal: live on a TTY, silent otherwise. The elapsed time ticks every second
 * while the scope is open.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make: Effect.Effect<ProgressView, never, CliEnv | Scope.Scope> = Effect.gen(function*() {
  const env = yield* CliEnv
  if (!env.stderrIsTTY) return noop
  const startedAt = yield* Clock.currentTimeMillis
  const status = yield* Ref.make<string | undefined>(undefined)
  const draw = Effect.gen(function*() {
    const text = yield* Ref.get(status)
    if (text === undefined) return
    const elapsed = Math.floor(((yield* Clock.currentTimeMillis) - startedAt) / 1000)
    yield* env.writeStderr(`${clearLine}${text}… ${elapsed}s`)
  })
  yield* draw.pipe(Effect.repeat(Schedule.spaced("1 second")), Effect.delay("1 second"), Effect.forkScoped)
  const clear = Effect.flatMap(
    Ref.getAndSet(status, undefined),
    (previous) => previous === undefined ? Effect.void : env.writeStderr(clearLine)
  )
  return {
    onEvent: (event) =>
      Effect.gen(function*() {
        if (event._tag === "Completed") return yield* clear
        const notice = noticeOf(event)
        if (notice !== undefined) {
          yield* env.writeStderr(`${clearLine}${notice}\n`)
          return yield* draw
        }
        const next = statusOf(event)
        if (next === undefined) return
        yield* Ref.set(status, next)
        yield* draw
      }),
    clear
  }
})

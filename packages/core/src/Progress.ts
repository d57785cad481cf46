/**
 * Progress of a generation as events: job queued with its position, running with logs, retries,
 * fallbacks, downloads, done. Observed as a `Stream` through `ImageGen.generateStream`, or by providing a
 * `ProgressReporter`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ImageResult } from "./ImageResult.js"

/**
 * @since 0.1.0
 * @category Models
 */
export type ProgressEvent = Data.TaggedEnum<{
  /** A provider call started. */
  Started: { readonly provider: string; readonly model: string; readonly attempt: number }
  /** A job provider accepted the job. */
  Submitted: { readonly provider: string; readonly model: string; readonly requestId: string }
  Queued: {
    readonly provider: string
    readonly requestId: string
    readonly position: number | undefined
    readonly elapsedMs: number
  }
  Running: {
    readonly provider: string
    readonly requestId: string
    readonly logs: ReadonlyArray<string>
    readonly percent: number | undefined
    readonly elapsedMs: number
  }
  Retrying: {
    readonly provider: string
    readonly model: string
    readonly attempt: number
    readonly delayMs: number
    readonly reason: string
  }
  FallingBack: { readonly from: string; readonly to: string; readonly reason: string }
  Downloading: { readonly provider: string; readonly url: string }
  Completed: { readonly result: ImageResult }
}>

/**
 * @since 0.1.0
 * @category Constructors
 */
export const ProgressEvent = Data.taggedEnum<ProgressEvent>()

/**
 * Receives progress events. Optional: without one, events are dropped.
 *
 * @since 0.1.0
 * @category Context
 */
export class ProgressReporter extends Context.Tag("@image-gen/core/ProgressReporter")<
  ProgressReporter,
  { readonly report: (event: ProgressEvent) => Effect.Effect<void> }
>() {}

/**
 * Reports an event to the current `ProgressReporter`, if any.
 *
 * @since 0.1.0
 * @category Reporting
 */
export const report = (event: ProgressEvent): Effect.Effect<void> =>
  Effect.flatMap(
    Effect.serviceOption(ProgressReporter),
    Option.match({ onNone: () => Effect.void, onSome: (reporter) => reporter.report(event) })
  )

/**
 * How a run ends: the exit code and the one line printed on stderr.
 *
 * - 0: success.
 * - 2: bad input, found before anything was sent: the router's pre-flight (`ImageError.isBadInput`),
 *   the command line's own checks (`BadInput`), unparsable flags (@effect/cli `ValidationError`) and
 *   invalid configuration (`ConfigError`).
 * - 3: content blocked by a provider's safety system (alone, or every model of a fallback chain).
 * - 1: any other failure.
 * - 130: interrupted (Ctrl-C).
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import { ImageError } from "@image-gen/core"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as CliError from "./CliError.js"

/**
 * @since 0.1.0
 * @category Constants
 */
export const Success = 0

/**
 * @since 0.1.0
 * @category Constants
 */
export const Failure = 1

/**
 * @since 0.1.0
 * @category Constants
 */
export const BadInput = 2

/**
 * @since 0.1.0
 * @category Constants
 */
export const Blocked = 3

/**
 * @since 0.1.0
 * @category Constants
 */
export const Interrupted = 130

/**
 * An exit code and the line that explains it.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Outcome {
  readonly code: number
  readonly message: string
}

/**
 * Whether an error is a content block: `ContentBlocked`, or a fallback chain where every model blocked.
 *
 * @since 0.1.0
 * @category Predicates
 */
export const isBlocked = (error: ImageError.ImageError): boolean =>
  error._tag === "ContentBlocked" ||
  (error._tag === "FallbackExhausted" && error.failures.length > 0 &&
    error.failures.every((f) => isBlocked(f.error)))

/**
 * The outcome of a failed run. Never includes a stack trace.
 *
 * @since 0.1.0
 * @category Classification
 */
export const fromCause = (cause: Cause.Cause<unknown>): Outcome => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return fromError(failure.value)
  if (Cause.isInterruptedOnly(cause)) return { code: Interrupted, message: "interrupted" }
  const defect = Cause.squash(cause)
  return { code: Failure, message: `unexpected error: ${oneLine(messageOf(defect))}` }
}

/**
 * The outcome of one typed failure.
 *
 * @since 0.1.0
 * @category Classification
 */
export const fromError = (error: unknown): Outcome => {
  if (ImageError.isImageError(error)) {
    const code = ImageError.isBadInput(error) ? BadInput : isBlocked(error) ? Blocked : Failure
    return { code, message: oneLine(describeImageError(error)) }
  }
  if (error instanceof CliError.BadInput) return { code: BadInput, message: oneLine(error.detail) }
  if (ValidationError.isValidationError(error)) {
    const text = oneLine(stripAnsi(HelpDoc.toAnsiText(error.error)))
    return { code: BadInput, message: text === "" ? "invalid command line; see image-gen --help" : text }
  }
  if (ConfigError.isConfigError(error)) {
    return { code: BadInput, message: `invalid configuration: ${oneLine(String(error))}` }
  }
  return { code: Failure, message: oneLine(messageOf(error)) }
}

/** Names for request fields as a CLI user knows them. */
const fieldLabels: Record<string, string> = {
  aspectRatio: "aspect ratio",
  negativePrompt: "negative prompt",
  outputFormat: "format",
  output: "output path",
  images: "input image",
  fallbacks: "fallback"
}

/**
 * The router's message, except that a pre-flight `InvalidRequest` reads "invalid request: prompt must
 * not be empty" rather than repeating the field name ("prompt: prompt must ...").
 */
const describeImageError = (error: ImageError.ImageError): string => {
  if (error._tag !== "InvalidRequest" || error.field === undefined || error.provider !== undefined) {
    return error.message
  }
  const root = error.field.split(".")[0]!
  const label = fieldLabels[root] ?? root
  return error.detail.startsWith(label)
    ? `invalid request: ${error.detail}`
    : `invalid request: ${label}: ${error.detail}`
}

const messageOf = (u: unknown): string => {
  if (Predicate.hasProperty(u, "message") && typeof u.message === "string" && u.message !== "") return u.message
  if (Predicate.hasProperty(u, "_tag") && typeof u._tag === "string") return u._tag
  return String(u)
}

const ansi = /\u001b\[[0-9;]*[A-Za-z]/g

const stripAnsi = (text: string): string => text.replace(ansi, "")

/**
 * Collapses line breaks and runs of spaces so every failure is exactly one line.
 *
 * @since 0.1.0
 * @category Utils
 */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").replace(/\s{2,}/g, " ").trim()

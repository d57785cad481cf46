/**
 * Failures found by the command line itself, before the router sees the request: an input image that
 * cannot be read, a flag value that makes no sense, a provider named but not configured.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The caller's mistake, found before any provider call. Exit code 2.
 *
 * @since 0.1.0
 * @category Errors
 */
export class BadInput extends Schema.TaggedError<BadInput>("@image-gen/cli/BadInput")("BadInput", {
  /** One line, naming what is wrong and where. */
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/**
 * Something went wrong that is neither the caller's input nor a provider's answer. Exit code 1.
 *
 * @since 0.1.0
 * @category Errors
 */
export class Unexpected extends Schema.TaggedError<Unexpected>("@image-gen/cli/Unexpected")("Unexpected", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

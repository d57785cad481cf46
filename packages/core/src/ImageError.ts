/**
 * The typed errors of image generation. Every failure a caller can see is one of these, each
 * classified as retryable or not, with a message that says what to do next.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category Type IDs
 */
export const TypeId: unique symbol = Symbol.for("@image-gen/core/ImageError")

/**
 * @since 0.1.0
 * @category Type IDs
 */
export type TypeId = typeof TypeId

/** Where the failure happened, so a user can find the paid job again. */
const origin = {
  provider: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  /** The provider's id for the request or job, when it accepted one. */
  requestId: Schema.optional(Schema.String)
}

const where = (self: { readonly provider?: string | undefined; readonly model?: string | undefined }): string =>
  self.provider === undefined
    ? ""
    : self.model === undefined
    ? `${self.provider}: `
    : `${self.provider}:${self.model}: `

const jobRef = (self: { readonly requestId?: string | undefined }): string =>
  self.requestId === undefined ? "" : ` (provider request id ${self.requestId})`

const detailOf = (detail: string | undefined): string => (detail === undefined || detail === "" ? "" : `: ${detail}`)

/**
 * The provider refused the call because of its rate limit. Retryable, after `retryAfterMillis` when the
 * provider said how long to wait.
 *
 * @since 0.1.0
 * @category Errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@image-gen/core/RateLimited")("RateLimited", {
  ...origin,
  retryAfterMillis: Schema.optional(Schema.Number),
  detail: Schema.optional(Schema.String)
}) {
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = true
  override get message(): string {
    const wait = this.retryAfterMillis === undefined
      ? ""
      : ` The provider asked to wait ${Duration.format(Duration.millis(this.retryAfterMillis))}.`
    return `${where(this)}rate limited${
      detailOf(this.detail)
    }.${wait} Retry later, lower the concurrency, or add a fallback model.`
  }
}

/**
 * The provider answered with a server error (5xx) or said it is overloaded. Retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class ProviderUnavailable
  extends Schema.TaggedError<ProviderUnavailable>("@image-gen/core/ProviderUnavailable")("ProviderUnavailable", {
    ...origin,
    status: Schema.optional(Schema.Number),
    retryAfterMillis: Schema.optional(Schema.Number),
    detail: Schema.optional(Schema.String)
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = true
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    return `${where(this)}provider unavailable${status}${detailOf(this.detail)}. Retry later or add a fallback model.`
  }
}

/**
 * The request never got a complete answer: connection refused or reset, DNS failure, a body cut short.
 * Retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class TransportError
  extends Schema.TaggedError<TransportError>("@image-gen/core/TransportError")("TransportError", {
    ...origin,
    detail: Schema.String
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = true
  override get message(): string {
    return `${where(this)}network error: ${this.detail}. Check connectivity and the provider's base URL.`
  }
}

/**
 * One call took longer than its timeout. Retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class RequestTimeout
  extends Schema.TaggedError<RequestTimeout>("@image-gen/core/RequestTimeout")("RequestTimeout", {
    ...origin,
    timeoutMillis: Schema.Number
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = true
  override get message(): string {
    return `${where(this)}no answer within ${
      Duration.format(Duration.millis(this.timeoutMillis))
    }. Retry, or raise the timeout.`
  }
}

/**
 * The provider rejected the credentials (401/403), or none were configured. Not retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class AuthenticationError
  extends Schema.TaggedError<AuthenticationError>("@image-gen/core/AuthenticationError")("AuthenticationError", {
    ...origin,
    status: Schema.optional(Schema.Number),
    /** The environment variable or option that holds the key, to tell the user where to look. */
    keyName: Schema.optional(Schema.String),
    detail: Schema.optional(Schema.String)
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    const key = this.keyName === undefined ? "the provider's API key" : this.keyName
    return `${where(this)}authentication failed${detailOf(this.detail)}. Check ${key}.`
  }
}

/**
 * The request is malformed or names something that does not exist: empty prompt, bad size, an input image
 * that cannot be read, a provider's 400/404/422. Not retryable: the same request fails the same way.
 *
 * @since 0.1.0
 * @category Errors
 */
export class InvalidRequest
  extends Schema.TaggedError<InvalidRequest>("@image-gen/core/InvalidRequest")("InvalidRequest", {
    ...origin,
    status: Schema.optional(Schema.Number),
    /** The request field at fault, when known. */
    field: Schema.optional(Schema.String),
    detail: Schema.String
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    // Schema messages often start with the field already ("prompt must not be empty").
    const field = this.field === undefined || this.detail.startsWith(this.field) ? "" : `${this.field} `
    return `${where(this)}invalid request: ${field}${this.detail}`
  }
}

/**
 * The provider's safety system refused the prompt or the output. Never retried: the same prompt is
 * refused again and may count against the account.
 *
 * @since 0.1.0
 * @category Errors
 */
export class ContentBlocked
  extends Schema.TaggedError<ContentBlocked>("@image-gen/core/ContentBlocked")("ContentBlocked", {
    ...origin,
    reason: Schema.optional(Schema.String)
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    return `${where(this)}content blocked by the provider's safety system${detailOf(this.reason)}${
      jobRef(this)
    }. Rephrase the prompt or change the input images.`
  }
}

/**
 * The model cannot do what the request asks (a size, a ratio, n, seed, editing). Found before any network
 * call. Not retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class UnsupportedCapability
  extends Schema.TaggedError<UnsupportedCapability>("@image-gen/core/UnsupportedCapability")("UnsupportedCapability", {
    ...origin,
    capability: Schema.String,
    requested: Schema.String,
    supported: Schema.optional(Schema.Array(Schema.String))
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    const supported = this.supported === undefined || this.supported.length === 0
      ? " is not supported"
      : this.supported.length === 1
      ? ` is not supported; use ${this.supported[0]}`
      : ` is not supported; use one of ${this.supported.join(", ")}`
    const requested = this.requested === "" ? "" : ` ${this.requested}`
    return `${where(this)}${this.capability}${requested}${supported}.`
  }
}

/**
 * A `provider:model` address names a provider that is not installed. Not retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class UnknownProvider
  extends Schema.TaggedError<UnknownProvider>("@image-gen/core/UnknownProvider")("UnknownProvider", {
    provider: Schema.String,
    installed: Schema.Array(Schema.String)
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    const installed = this.installed.length === 0 ? "none" : this.installed.join(", ")
    return `unknown provider "${this.provider}"; installed providers: ${installed}. Check the prefix for a typo, or install the provider's package and provide its layer.`
  }
}

/**
 * A bare model name matches nothing in the catalog and no provider accepts unknown ids. Not retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class UnknownModel extends Schema.TaggedError<UnknownModel>("@image-gen/core/UnknownModel")("UnknownModel", {
  model: Schema.String,
  suggestions: Schema.Array(Schema.String)
}) {
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    const hint = this.suggestions.length === 0 ? "" : ` Did you mean ${this.suggestions.join(", ")}?`
    return `unknown model "${this.model}". Address it as provider:model, or run \`image-gen models\` to list the catalog.${hint}`
  }
}

/**
 * The model is retired at the provider. Not retryable; the message names the replacement.
 *
 * @since 0.1.0
 * @category Errors
 */
export class ModelRetired extends Schema.TaggedError<ModelRetired>("@image-gen/core/ModelRetired")("ModelRetired", {
  provider: Schema.String,
  model: Schema.String,
  retiredOn: Schema.optional(Schema.String),
  replacement: Schema.optional(Schema.String)
}) {
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    const on = this.retiredOn === undefined ? "" : ` on ${this.retiredOn}`
    const use = this.replacement === undefined ? "" : `; use ${this.replacement} instead`
    return `${this.provider}:${this.model} was retired${on}${use}.`
  }
}

/**
 * The provider accepted the job and then reported it failed. Not retried by the router: the job was
 * accepted and may have been paid for.
 *
 * @since 0.1.0
 * @category Errors
 */
export class JobFailed extends Schema.TaggedError<JobFailed>("@image-gen/core/JobFailed")("JobFailed", {
  ...origin,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    return `${where(this)}job failed: ${this.detail}${jobRef(this)}.`
  }
}

/**
 * A job did not finish before its deadline. The remote job was cancelled where the provider allows it.
 *
 * @since 0.1.0
 * @category Errors
 */
export class PollDeadline extends Schema.TaggedError<PollDeadline>("@image-gen/core/PollDeadline")("PollDeadline", {
  ...origin,
  deadlineMillis: Schema.Number,
  lastStatus: Schema.optional(Schema.String)
}) {
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    const status = this.lastStatus === undefined ? "" : `, last status ${this.lastStatus}`
    return `${where(this)}job not finished within ${Duration.format(Duration.millis(this.deadlineMillis))}${status}${
      jobRef(this)
    }. Raise the deadline or try a faster model.`
  }
}

/**
 * A finished image could not be downloaded. Not retried by the router (the image was paid for); the
 * download itself was retried before this error.
 *
 * @since 0.1.0
 * @category Errors
 */
export class DownloadFailed
  extends Schema.TaggedError<DownloadFailed>("@image-gen/core/DownloadFailed")("DownloadFailed", {
    ...origin,
    url: Schema.String,
    status: Schema.optional(Schema.Number),
    detail: Schema.String
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    return `${where(this)}download of ${redactUrl(this.url)} failed${status}: ${this.detail}${jobRef(this)}.`
  }
}

/**
 * Writing an image to disk failed: the directory is missing or not writable, the disk is full. Nothing
 * is left half-written.
 *
 * @since 0.1.0
 * @category Errors
 */
export class SaveFailed extends Schema.TaggedError<SaveFailed>("@image-gen/core/SaveFailed")("SaveFailed", {
  ...origin,
  path: Schema.String,
  detail: Schema.String
}) {
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    return `cannot write ${this.path}: ${this.detail}${jobRef(this)}. Choose a writable output path.`
  }
}

/**
 * The estimated cost of the request exceeds the caller's budget. Found before any network call.
 *
 * @since 0.1.0
 * @category Errors
 */
export class BudgetExceeded
  extends Schema.TaggedError<BudgetExceeded>("@image-gen/core/BudgetExceeded")("BudgetExceeded", {
    ...origin,
    estimatedUsd: Schema.Number,
    budgetUsd: Schema.Number
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    return `${where(this)}estimated cost $${this.estimatedUsd.toFixed(4)} exceeds the budget of $${
      this.budgetUsd.toFixed(4)
    }. Lower n or the size, or raise the budget.`
  }
}

/**
 * The provider answered something this library cannot understand. Not retryable.
 *
 * @since 0.1.0
 * @category Errors
 */
export class MalformedResponse
  extends Schema.TaggedError<MalformedResponse>("@image-gen/core/MalformedResponse")("MalformedResponse", {
    ...origin,
    detail: Schema.String
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    return `${where(this)}unexpected response from the provider: ${this.detail}${jobRef(this)}.`
  }
}

/**
 * One failed attempt of a fallback chain.
 *
 * @since 0.1.0
 * @category Models
 */
export interface AttemptFailure {
  readonly provider: string
  readonly model: string
  readonly error: ImageError
}

/**
 * Every model of a fallback chain failed. Carries each target's final failure, in order.
 *
 * @since 0.1.0
 * @category Errors
 */
export class FallbackExhausted
  extends Schema.TaggedError<FallbackExhausted>("@image-gen/core/FallbackExhausted")("FallbackExhausted", {
    failures: Schema.Array(Schema.Struct({
      provider: Schema.String,
      model: Schema.String,
      error: Schema.suspend((): Schema.Schema<ImageError, unknown> => ImageErrorSchema)
    }))
  })
{
  readonly [TypeId]: TypeId = TypeId
  readonly retryable = false
  override get message(): string {
    return `all ${this.failures.length} models failed: ${
      this.failures.map((f) => `[${f.provider}:${f.model}] ${f.error.message}`).join(" | ")
    }`
  }
}

/**
 * @since 0.1.0
 * @category Models
 */
export type ImageError =
  | RateLimited
  | ProviderUnavailable
  | TransportError
  | RequestTimeout
  | AuthenticationError
  | InvalidRequest
  | ContentBlocked
  | UnsupportedCapability
  | UnknownProvider
  | UnknownModel
  | ModelRetired
  | JobFailed
  | PollDeadline
  | DownloadFailed
  | SaveFailed
  | BudgetExceeded
  | MalformedResponse
  | FallbackExhausted

/**
 * The schema of the whole union, for encoding errors into logs or across processes.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImageErrorSchema: Schema.Schema<ImageError, unknown> = Schema.Union(
  RateLimited,
  ProviderUnavailable,
  TransportError,
  RequestTimeout,
  AuthenticationError,
  InvalidRequest,
  ContentBlocked,
  UnsupportedCapability,
  UnknownProvider,
  UnknownModel,
  ModelRetired,
  JobFailed,
  PollDeadline,
  DownloadFailed,
  SaveFailed,
  BudgetExceeded,
  MalformedResponse,
  FallbackExhausted
  // The union refers to itself through FallbackExhausted; its encoded side is left opaque to break the cycle.
) as unknown as Schema.Schema<ImageError, unknown>

/**
 * @since 0.1.0
 * @category Guards
 */
export const isImageError = (u: unknown): u is ImageError => Predicate.hasProperty(u, TypeId)

/**
 * Whether retrying the same call may succeed. Content blocks never are.
 *
 * @since 0.1.0
 * @category Predicates
 */
export const isRetryable = (error: ImageError): boolean => error.retryable

/**
 * The caller's mistake, known before any call: the kind of failure a CLI reports with exit code 2.
 *
 * @since 0.1.0
 * @category Predicates
 */
export const isBadInput = (error: ImageError): boolean => {
  switch (error._tag) {
    case "InvalidRequest":
      return error.status === undefined
    case "UnsupportedCapability":
    case "UnknownProvider":
    case "UnknownModel":
    case "ModelRetired":
    case "BudgetExceeded":
      return true
    default:
      return false
  }
}

/**
 * How long the provider asked to wait before the next try, if it said.
 *
 * @since 0.1.0
 * @category Accessors
 */
export const retryAfter = (error: ImageError): Duration.Duration | undefined =>
  (error._tag === "RateLimited" || error._tag === "ProviderUnavailable") && error.retryAfterMillis !== undefined
    ? Duration.millis(error.retryAfterMillis)
    : undefined

/**
 * Removes query strings from a URL before it goes into a message: signed result URLs carry tokens.
 *
 * @since 0.1.0
 * @category Utils
 */
export const redactUrl = (url: string): string => {
  const q = url.indexOf("?")
  return q === -1 ? url : `${url.slice(0, q)}?…`
}

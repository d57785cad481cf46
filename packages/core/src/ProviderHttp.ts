/**
 * Helpers for provider packages: turning HTTP outcomes into typed `ImageError`s the same way for every
 * provider (status classes, `Retry-After`, transport failures, timeouts, undecodable bodies).
 *
 * @since 0.1.0
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as ParseResult from "effect/ParseResult"
import * as ImageError from "./ImageError.js"

/**
 * Who made the call, for error messages.
 *
 * @since 0.1.0
 * @category Models
 */
export interface CallSite {
  readonly provider: string
  readonly model?: string | undefined
  readonly requestId?: string | undefined
  /** The env var or option holding the key, named in authentication errors. */
  readonly keyName?: string | undefined
}

const site = (s: CallSite) => ({
  provider: s.provider,
  ...(s.model === undefined ? {} : { model: s.model }),
  ...(s.requestId === undefined ? {} : { requestId: s.requestId })
})

/**
 * Milliseconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if present.
 *
 * @since 0.1.0
 * @category Parsing
 */
export const retryAfterMillis = (
  headers: Readonly<Record<string, string | undefined>>,
  nowMillis: number
): number | undefined => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms))
  const value = headers["retry-after"]?.trim()
  if (value === undefined || value === "") return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMillis)
}

/**
 * The human part of a provider's error body: `error.message`, `message`, `detail`, `title` or the text
 * itself, shortened.
 *
 * @since 0.1.0
 * @category Parsing
 */
export const errorDetail = (body: string): string => {
  const text = body.trim()
  const shorten = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s)
  if (text === "") return ""
  try {
    return shorten(pick(JSON.parse(text)) ?? text)
  } catch {
    return shorten(text)
  }
}

const pick = (json: unknown): string | undefined => {
  if (typeof json === "string") return json
  if (typeof json !== "object" || json === null) return undefined
  const o = json as Record<string, unknown>
  for (const key of ["error", "message", "detail", "title", "errors"]) {
    const v = o[key]
    if (typeof v === "string" && v !== "") return v
    if (Array.isArray(v) && v.length > 0) return pick(v[0]) ?? JSON.stringify(v[0])
    if (typeof v === "object" && v !== null) {
      const inner = pick(v)
      if (inner !== undefined) return inner
    }
  }
  return undefined
}

/**
 * The typed error for a non-2xx answer.
 *
 * @since 0.1.0
 * @category Errors
 */
export const statusError = (
  call: CallSite,
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  body: string,
  nowMillis: number
): ImageError.ImageError => {
  const detail = errorDetail(body)
  const where = site(call)
  const retryAfter = retryAfterMillis(headers, nowMillis)
  const wait = retryAfter === undefined ? {} : { retryAfterMillis: retryAfter }
  if (status === 429) return new ImageError.RateLimited({ ...where, ...wait, ...(detail ? { detail } : {}) })
  if (status === 401 || status === 403) {
    return new ImageError.AuthenticationError({
      ...where,
      status,
      ...(call.keyName === undefined ? {} : { keyName: call.keyName }),
      ...(detail ? { detail } : {})
    })
  }
  if (status === 408) return new ImageError.RequestTimeout({ ...where, timeoutMillis: 0 })
  if (status >= 500) {
    return new ImageError.ProviderUnavailable({ ...where, status, ...wait, ...(detail ? { detail } : {}) })
  }
  return new ImageError.InvalidRequest({ ...where, status, detail: detail || `HTTP ${status}` })
}

/**
 * Reads the body of a failed response and maps it with `statusError`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const fromResponse = (
  call: CallSite,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<ImageError.ImageError> =>
  Effect.gen(function*() {
    const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const now = yield* Clock.currentTimeMillis
    return statusError(call, response.status, response.headers, body, now)
  })

/**
 * Maps an `HttpClientError` (transport failure, or a status rejected by `filterStatusOk`) to an
 * `ImageError`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const fromHttpClientError = (
  call: CallSite,
  error: HttpClientError.HttpClientError
): Effect.Effect<ImageError.ImageError> =>
  error._tag === "ResponseError" && error.reason === "StatusCode"
    ? fromResponse(call, error.response)
    : Effect.succeed(
      new ImageError.TransportError({
        ...site(call),
        detail: error._tag === "RequestError"
          ? `${error.reason}: ${causeText(error.cause) ?? error.description ?? "request failed"}`
          : `${error.reason} reading the response: ${causeText(error.cause) ?? error.description ?? "failed"}`
      })
    )

const causeText = (cause: unknown): string | undefined => {
  if (cause instanceof Error) {
    const inner = (cause as { readonly cause?: unknown }).cause
    const code = typeof inner === "object" && inner !== null && "code" in inner ? String(inner.code) : undefined
    return code === undefined ? cause.message : `${cause.message} (${code})`
  }
  return cause === undefined ? undefined : String(cause)
}

/**
 * Maps an undecodable provider body to `MalformedResponse`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const fromParseError = (call: CallSite, error: ParseResult.ParseError): ImageError.ImageError =>
  new ImageError.MalformedResponse({ ...site(call), detail: error.message.slice(0, 500) })

/**
 * Applies all of the above at a provider's boundary: `HttpClientError`, `ParseError` and
 * `TimeoutException` become `ImageError`s.
 *
 * @since 0.1.0
 * @category Errors
 */
export const mapErrors = (call: CallSite, timeoutMillis?: number) =>
<A, R>(
  effect: Effect.Effect<
    A,
    HttpClientError.HttpClientError | ParseResult.ParseError | ImageError.ImageError | {
      readonly _tag: "TimeoutException"
    },
    R
  >
): Effect.Effect<A, ImageError.ImageError, R> =>
  Effect.catchAll(effect, (error): Effect.Effect<never, ImageError.ImageError> => {
    if (HttpClientError.isHttpClientError(error)) return Effect.flip(fromHttpClientError(call, error))
    if (ImageError.isImageError(error)) return Effect.fail(error)
    if (error._tag === "ParseError") return Effect.fail(fromParseError(call, error as ParseResult.ParseError))
    return Effect.fail(new ImageError.RequestTimeout({ ...site(call), timeoutMillis: timeoutMillis ?? 0 }))
  })

/**
 * Fails a call that takes longer than `duration` with `RequestTimeout` naming the call site.
 *
 * @since 0.1.0
 * @category Errors
 */
export const timeoutAfter =
  (call: CallSite, duration: Duration.DurationInput) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | ImageError.RequestTimeout, R> =>
    Effect.timeoutFail(effect, {
      duration,
      onTimeout: () =>
        new ImageError.RequestTimeout({ ...site(call), timeoutMillis: Duration.toMillis(Duration.decode(duration)) })
    })

/**
 * The host name of a URL, for the `server.address` span attribute; `undefined` when it does not parse.
 *
 * @since 0.1.0
 * @category Parsing
 */
export const hostOf = (url: string): string | undefined => URL.canParse(url) ? new URL(url).hostname : undefined

/**
 * One part of a multipart body: a text field or a file.
 *
 * @since 0.1.0
 * @category Multipart
 */
export type MultipartPart =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly data: Uint8Array; readonly mediaType: string; readonly fileName: string }

/**
 * Encodes a `multipart/form-data` body with the runtime's own `FormData` encoder, as bytes with their
 * content type. Encoding up front (rather than handing a `FormData` to the client) works with every
 * `HttpClient` implementation: undici's own dispatcher rejects the global `FormData` class.
 *
 * @since 0.1.0
 * @category Multipart
 */
export const multipartBody = (parts: Iterable<MultipartPart>): Effect.Effect<HttpBody.HttpBody> =>
  Effect.suspend(() => {
    const form = new FormData()
    for (const part of parts) {
      if ("value" in part) form.append(part.name, part.value)
      else form.append(part.name, new Blob([part.data], { type: part.mediaType }), part.fileName)
    }
    return formDataBody(form)
  })

/**
 * Encodes a `FormData` as bytes with its `multipart/form-data` content type (see `multipartBody`).
 *
 * @since 0.1.0
 * @category Multipart
 */
export const formDataBody = (form: FormData): Effect.Effect<HttpBody.HttpBody> =>
  Effect.promise(async () => {
    const encoded = new Response(form)
    const bytes = new Uint8Array(await encoded.arrayBuffer())
    return HttpBody.uint8Array(bytes, encoded.headers.get("content-type") ?? "multipart/form-data")
  })

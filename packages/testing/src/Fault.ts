/**
 * Faults a fake server can inject: error statuses, delays, hung responses, connection resets,
 * truncated or malformed bodies. A `Reply` (a `Fault` or a plain `FakeResponse`) is what scripts are
 * made of and what route handlers return.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Http from "node:http"
import * as FakeResponse from "./FakeResponse.js"

/**
 * @since 0.1.0
 * @category Type IDs
 */
export const TypeId: unique symbol = Symbol.for("@image-gen/testing/Fault")

/**
 * @since 0.1.0
 * @category Type IDs
 */
export type TypeId = typeof TypeId

/**
 * A fault, or another special instruction to the server.
 *
 * @since 0.1.0
 * @category Models
 */
export type Fault =
  | Respond
  | Delay
  | Passthrough
  | Hang
  | ResetBeforeResponse
  | CloseBeforeResponse
  | ResetMidBody
  | Truncated

/**
 * What a script step or a route handler can answer with.
 *
 * @since 0.1.0
 * @category Models
 */
export type Reply = Fault | FakeResponse.FakeResponse

/**
 * Send this response.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Respond {
  readonly [TypeId]: TypeId
  readonly _tag: "Respond"
  readonly response: FakeResponse.FakeResponse
}

/**
 * Wait, then reply with `then`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Delay {
  readonly [TypeId]: TypeId
  readonly _tag: "Delay"
  readonly duration: Duration.DurationInput
  readonly then: Reply
}

/**
 * Answer with the route's handler (or the server's fallback) as if no script were there.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Passthrough {
  readonly [TypeId]: TypeId
  readonly _tag: "Passthrough"
}

/**
 * Never answer. The connection stays open until the client gives up or the server closes.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Hang {
  readonly [TypeId]: TypeId
  readonly _tag: "Hang"
}

/**
 * Reset the TCP connection (RST) before sending any byte of the response.
 *
 * @since 0.1.0
 * @category Models
 */
export interface ResetBeforeResponse {
  readonly [TypeId]: TypeId
  readonly _tag: "ResetBeforeResponse"
}

/**
 * Close the TCP connection (FIN) without sending any byte of the response.
 *
 * @since 0.1.0
 * @category Models
 */
export interface CloseBeforeResponse {
  readonly [TypeId]: TypeId
  readonly _tag: "CloseBeforeResponse"
}

/**
 * A partial body: the fields shared by `ResetMidBody` and `Truncated`. `content-length` announces
 * all of `body`, but only its first `bytesSent` bytes are sent.
 *
 * @since 0.1.0
 * @category Models
 */
export interface PartialBody {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  readonly bytesSent: number
}

/**
 * Send the status line, the headers and part of the body, then reset the connection (RST) after
 * `settle` (so that the client has read what was sent).
 *
 * @since 0.1.0
 * @category Models
 */
export interface ResetMidBody extends PartialBody {
  readonly [TypeId]: TypeId
  readonly _tag: "ResetMidBody"
  readonly settle: Duration.DurationInput
}

/**
 * Send the status line, the headers and part of the body, then close the connection cleanly (FIN).
 *
 * @since 0.1.0
 * @category Models
 */
export interface Truncated extends PartialBody {
  readonly [TypeId]: TypeId
  readonly _tag: "Truncated"
}

/**
 * @since 0.1.0
 * @category Guards
 */
export const isFault = (u: unknown): u is Fault => Predicate.hasProperty(u, TypeId)

/**
 * @since 0.1.0
 * @category Guards
 */
export const isReply = (u: unknown): u is Reply => isFault(u) || FakeResponse.isFakeResponse(u)

/**
 * Send the given response.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const respond = (response: FakeResponse.FakeResponse): Fault => ({ [TypeId]: TypeId, _tag: "Respond", response })

/**
 * Answer with the route's handler, as if the script step were not there. Useful after `delay`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const passthrough: Fault = { [TypeId]: TypeId, _tag: "Passthrough" }

/**
 * An error status with a JSON body. The default body is
 * `{ "error": { "message": "<reason phrase>", "status": <status> } }`; pass `body` to send the
 * provider's own error shape.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const status = (
  status: number,
  options?: {
    readonly headers?: Readonly<Record<string, string>> | undefined
    readonly body?: unknown
  }
): Fault =>
  respond(FakeResponse.json(
    options !== undefined && "body" in options
      ? options.body
      : { error: { message: Http.STATUS_CODES[status] ?? `HTTP ${status}`, status } },
    { status, headers: options?.headers }
  ))

/**
 * A 429 rate-limit answer. `retryAfterSeconds` sets `Retry-After`; `retryAfterMs` sets
 * `retry-after-ms` (as OpenAI sends it).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const rateLimited = (options?: {
  readonly retryAfterSeconds?: number | undefined
  readonly retryAfterMs?: number | undefined
  readonly status?: number | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: unknown
}): Fault => {
  const headers: Record<string, string> = {}
  if (options?.retryAfterSeconds !== undefined) headers["retry-after"] = String(options.retryAfterSeconds)
  if (options?.retryAfterMs !== undefined) headers["retry-after-ms"] = String(options.retryAfterMs)
  const code = options?.status ?? 429
  return status(code, {
    headers: { ...headers, ...options?.headers },
    body: options !== undefined && "body" in options
      ? options.body
      : { error: { message: "Rate limit exceeded", status: code } }
  })
}

/**
 * Wait `duration` (on the live clock), then reply with `then` (by default, the route's handler).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const delay = (duration: Duration.DurationInput, then: Reply = passthrough): Fault => ({
  [TypeId]: TypeId,
  _tag: "Delay",
  duration,
  then
})

/**
 * Never answer: the client sees a hung request until its own timeout fires or the server closes.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const hang: Fault = { [TypeId]: TypeId, _tag: "Hang" }

/**
 * Reset the connection (TCP RST) before any byte of the response: `fetch` rejects with
 * `ECONNRESET`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const resetBeforeResponse: Fault = { [TypeId]: TypeId, _tag: "ResetBeforeResponse" }

/**
 * Close the connection (TCP FIN) before any byte of the response: `fetch` rejects
 * ("other side closed" / "socket hang up").
 *
 * @since 0.1.0
 * @category Constructors
 */
export const closeBeforeResponse: Fault = { [TypeId]: TypeId, _tag: "CloseBeforeResponse" }

/**
 * @since 0.1.0
 * @category Models
 */
export interface PartialBodyOptions {
  readonly status?: number | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** The full body that `content-length` announces. A default JSON document when omitted. */
  readonly body?: string | Uint8Array | undefined
  /** How many bytes of the body to send; at most `body.length - 1`. Half the body by default. */
  readonly bytesSent?: number | undefined
}

const defaultPartialBody = JSON.stringify({
  id: "fake-0001",
  status: "succeeded",
  data: [{ url: "http://127.0.0.1/fake/image-0001.png", revised_prompt: "a fake image used to test faults" }]
})

const partial = (options: PartialBodyOptions | undefined): PartialBody => {
  const body = options?.body === undefined
    ? new TextEncoder().encode(defaultPartialBody)
    : typeof options.body === "string"
    ? new TextEncoder().encode(options.body)
    : options.body
  const headers: Record<string, string> = { "content-type": "application/json" }
  for (const [key, value] of Object.entries(options?.headers ?? {})) headers[key.toLowerCase()] = value
  const wanted = options?.bytesSent ?? Math.floor(body.length / 2)
  return {
    status: options?.status ?? 200,
    headers,
    body,
    bytesSent: Math.max(0, Math.min(Math.floor(wanted), body.length - 1))
  }
}

/**
 * Send headers and part of the body, then reset the connection (TCP RST): `fetch` resolves, reading
 * the body rejects.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const resetMidBody = (
  options?: PartialBodyOptions & {
    /** How long to wait after the partial body before the reset. Defaults to 50 millis. */
    readonly settle?: Duration.DurationInput | undefined
  }
): Fault => ({
  [TypeId]: TypeId,
  _tag: "ResetMidBody",
  ...partial(options),
  settle: options?.settle ?? 50
})

/**
 * Send headers with a `content-length` larger than the bytes that follow, then end the connection:
 * `fetch` resolves, reading the body rejects.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const truncated = (options?: PartialBodyOptions): Fault => ({
  [TypeId]: TypeId,
  _tag: "Truncated",
  ...partial(options)
})

/**
 * A response that says `application/json` but whose body is not valid JSON: reading the body works,
 * parsing it fails.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const malformedJson = (options?: {
  readonly status?: number | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Defaults to a JSON document cut in the middle. */
  readonly body?: string | undefined
}): Fault =>
  respond(FakeResponse.text(options?.body ?? "{\"id\":\"fake-0001\",\"data\":[{\"url\":\"http://127.0.0.1/fa", {
    status: options?.status ?? 200,
    headers: { "content-type": "application/json", ...options?.headers }
  }))

/**
 * A response with an unexpected content type, by default a 200 with an HTML page where JSON is
 * expected (as a captive portal or a proxy error page would send).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const wrongContentType = (options?: {
  readonly status?: number | undefined
  readonly contentType?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: string | undefined
}): Fault =>
  respond(FakeResponse.text(
    options?.body ??
      "<!DOCTYPE html><html><head><title>Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
    {
      status: options?.status ?? 200,
      headers: { ...options?.headers, "content-type": options?.contentType ?? "text/html; charset=utf-8" }
    }
  ))

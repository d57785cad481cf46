/**
 * What a fake route answers: a status, headers and a body (JSON, text, bytes, or a stream of chunks
 * sent with delays, for server-sent events).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type { Pipeable } from "effect/Pipeable"
import { pipeArguments } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"

/**
 * @since 0.1.0
 * @category Type IDs
 */
export const TypeId: unique symbol = Symbol.for("@image-gen/testing/FakeResponse")

/**
 * @since 0.1.0
 * @category Type IDs
 */
export type TypeId = typeof TypeId

/**
 * The body of a fake response.
 *
 * - `Json`: serialised with `JSON.stringify` when sent (a value that cannot be serialised gives a 500).
 * - `Stream`: sent with chunked transfer encoding; headers are flushed before the first chunk.
 *
 * @since 0.1.0
 * @category Models
 */
export type Body =
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Json"; readonly value: unknown }
  | { readonly _tag: "Text"; readonly value: string }
  | { readonly _tag: "Bytes"; readonly value: Uint8Array }
  | { readonly _tag: "Stream"; readonly stream: Stream.Stream<Uint8Array | string> }

/**
 * A response description.
 *
 * @since 0.1.0
 * @category Models
 */
export interface FakeResponse extends Pipeable {
  readonly [TypeId]: TypeId
  readonly _tag: "FakeResponse"
  readonly status: number
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Body
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly status?: number | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * @since 0.1.0
 * @category Guards
 */
export const isFakeResponse = (u: unknown): u is FakeResponse => Predicate.hasProperty(u, TypeId)

const Proto = {
  [TypeId]: TypeId,
  _tag: "FakeResponse",
  pipe() {
    return pipeArguments(this, arguments)
  }
}

const lowerCaseKeys = (headers: Readonly<Record<string, string>> | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(headers ?? {})) out[key.toLowerCase()] = value
  return out
}

/**
 * The most general constructor. `defaultHeaders` are overridden by `options.headers`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options & {
    readonly body: Body
    readonly defaultStatus?: number | undefined
    readonly defaultHeaders?: Readonly<Record<string, string>> | undefined
  }
): FakeResponse => {
  const self = Object.create(Proto)
  self.status = options.status ?? options.defaultStatus ?? 200
  self.headers = { ...lowerCaseKeys(options.defaultHeaders), ...lowerCaseKeys(options.headers) }
  self.body = options.body
  return self
}

/**
 * A response without a body (status 204 unless given).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const empty = (options?: Options): FakeResponse =>
  make({ ...options, body: { _tag: "Empty" }, defaultStatus: 204 })

/**
 * A JSON response (`content-type: application/json`).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const json = (value: unknown, options?: Options): FakeResponse =>
  make({ ...options, body: { _tag: "Json", value }, defaultHeaders: { "content-type": "application/json" } })

/**
 * A text response (`content-type: text/plain; charset=utf-8` unless given).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const text = (value: string, options?: Options): FakeResponse =>
  make({ ...options, body: { _tag: "Text", value }, defaultHeaders: { "content-type": "text/plain; charset=utf-8" } })

/**
 * A binary response (`content-type: application/octet-stream` unless given).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const bytes = (value: Uint8Array, options?: Options): FakeResponse =>
  make({ ...options, body: { _tag: "Bytes", value }, defaultHeaders: { "content-type": "application/octet-stream" } })

/**
 * A streamed response: each element of the stream is written as it is produced (chunked transfer
 * encoding). Add delays with `Stream.schedule`, `Stream.tap(() => Effect.sleep(...))` or use `chunks`.
 * Delays run on the live clock.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const stream = (body: Stream.Stream<Uint8Array | string>, options?: Options): FakeResponse =>
  make({
    ...options,
    body: { _tag: "Stream", stream: body },
    defaultHeaders: { "content-type": "application/octet-stream" }
  })

/**
 * One chunk of a streamed body, optionally sent after a delay.
 *
 * @since 0.1.0
 * @category Models
 */
export type Chunk = string | Uint8Array | {
  readonly data: string | Uint8Array
  /** Wait this long before sending the chunk. */
  readonly delay?: Duration.DurationInput | undefined
}

const delayed = <A>(delay: Duration.DurationInput | undefined, value: A): Stream.Stream<A> =>
  delay === undefined || Duration.toMillis(Duration.decode(delay)) <= 0
    ? Stream.succeed(value)
    : Stream.fromEffect(Effect.as(Effect.sleep(delay), value))

/**
 * A streamed response from a list of chunks, each optionally preceded by a delay.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const chunks = (body: Iterable<Chunk>, options?: Options): FakeResponse =>
  stream(
    Stream.flatMap(
      Stream.fromIterable(body),
      (chunk) =>
        typeof chunk === "string" || chunk instanceof Uint8Array
          ? Stream.succeed(chunk)
          : delayed(chunk.delay, chunk.data)
    ),
    options
  )

/**
 * A server-sent event. `data` is sent as is when it is a string, otherwise as JSON; multi-line data is
 * split into several `data:` lines.
 *
 * @since 0.1.0
 * @category Models
 */
export interface SseEvent {
  readonly event?: string | undefined
  readonly data: unknown
  readonly id?: string | undefined
  readonly retry?: number | undefined
  /** Wait this long before sending the event (overrides the `interval` option of `sse`). */
  readonly delay?: Duration.DurationInput | undefined
}

/**
 * Formats one server-sent event, including the blank line that ends it.
 *
 * @since 0.1.0
 * @category Encoding
 */
export const formatSseEvent = (event: SseEvent): string => {
  const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data) ?? "null"
  let out = ""
  if (event.event !== undefined) out += `event: ${event.event}\n`
  if (event.id !== undefined) out += `id: ${event.id}\n`
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`
  for (const line of data.split(/\r?\n/)) out += `data: ${line}\n`
  return out + "\n"
}

/**
 * A `text/event-stream` response. Each event is sent after its own `delay`, or after `interval`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const sse = (
  events: Iterable<SseEvent>,
  options?: Options & { readonly interval?: Duration.DurationInput | undefined }
): FakeResponse =>
  make({
    ...options,
    body: {
      _tag: "Stream",
      stream: Stream.flatMap(
        Stream.fromIterable(events),
        (event) =>
          Stream.mapEffect(delayed(event.delay ?? options?.interval, event), (e) =>
            Effect.try({
              try: () => formatSseEvent(e),
              catch: (cause) => cause
            }).pipe(Effect.orDie))
      )
    },
    defaultHeaders: { "content-type": "text/event-stream", "cache-control": "no-cache" }
  })

/**
 * Sets one header (name is lower-cased).
 *
 * @since 0.1.0
 * @category Combinators
 */
export const setHeader: {
  (name: string, value: string): (self: FakeResponse) => FakeResponse
  (self: FakeResponse, name: string, value: string): FakeResponse
} = dual(
  3,
  (self: FakeResponse, name: string, value: string): FakeResponse =>
    make({ status: self.status, headers: { ...self.headers, [name.toLowerCase()]: value }, body: self.body })
)

/**
 * Merges headers into the response.
 *
 * @since 0.1.0
 * @category Combinators
 */
export const setHeaders: {
  (headers: Readonly<Record<string, string>>): (self: FakeResponse) => FakeResponse
  (self: FakeResponse, headers: Readonly<Record<string, string>>): FakeResponse
} = dual(
  2,
  (self: FakeResponse, headers: Readonly<Record<string, string>>): FakeResponse =>
    make({ status: self.status, headers: { ...self.headers, ...lowerCaseKeys(headers) }, body: self.body })
)

/**
 * Replaces the status code.
 *
 * @since 0.1.0
 * @category Combinators
 */
export const setStatus: {
  (status: number): (self: FakeResponse) => FakeResponse
  (self: FakeResponse, status: number): FakeResponse
} = dual(
  2,
  (self: FakeResponse, status: number): FakeResponse => make({ status, headers: self.headers, body: self.body })
)

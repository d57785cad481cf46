/**
 * A request received by a `FakeServer`, as recorded in its request log and as seen by route handlers.
 * The body is kept as raw bytes (multipart bodies are not parsed); `text`, `json`, `formData` and
 * `schemaBodyJson` read it on demand.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category Type IDs
 */
export const TypeId: unique symbol = Symbol.for("@image-gen/testing/FakeRequest")

/**
 * @since 0.1.0
 * @category Type IDs
 */
export type TypeId = typeof TypeId

/**
 * The request body could not be read as JSON or as form data.
 *
 * @since 0.1.0
 * @category Errors
 */
export class FakeRequestError
  extends Schema.TaggedError<FakeRequestError>("@image-gen/testing/FakeRequest/FakeRequestError")("FakeRequestError", {
    reason: Schema.Literal("Json", "FormData"),
    method: Schema.String,
    path: Schema.String,
    cause: Schema.optional(Schema.Defect)
  })
{
  override get message(): string {
    const what = this.reason === "Json" ? "JSON" : "form data"
    return `The body of ${this.method} ${this.path} is not valid ${what}`
  }
}

/**
 * A request as received by the fake server.
 *
 * @since 0.1.0
 * @category Models
 */
export interface FakeRequest {
  readonly [TypeId]: TypeId
  /** Arrival order on this server, starting at 1. */
  readonly seq: number
  /** Upper-case HTTP method. */
  readonly method: string
  /** The raw request target, path and query: `/v1/images?x=1`. */
  readonly url: string
  /** The path without the query string, not percent-decoded. */
  readonly path: string
  /** The first value of each query parameter. Use `searchParams` for repeated ones. */
  readonly query: Readonly<Record<string, string>>
  readonly searchParams: URLSearchParams
  /** Header names are lower case; repeated headers are joined with `", "`. */
  readonly headers: Readonly<Record<string, string>>
  /** The raw body bytes, exactly as received. */
  readonly body: Uint8Array
  /** The body decoded as UTF-8. */
  readonly text: string
  /** The body parsed as JSON. */
  readonly json: Effect.Effect<unknown, FakeRequestError>
  /** When the request was received (after its body was read), in epoch milliseconds. */
  readonly receivedAt: number
}

/**
 * @since 0.1.0
 * @category Guards
 */
export const isFakeRequest = (u: unknown): u is FakeRequest => Predicate.hasProperty(u, TypeId)

const decoder = new TextDecoder()

/**
 * Builds a `FakeRequest`. The server does this for you; it is exported for unit-testing handlers
 * without a server.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: {
  readonly seq?: number | undefined
  readonly method?: string | undefined
  readonly url: string
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: Uint8Array | string | undefined
  readonly receivedAt?: number | undefined
}): FakeRequest => {
  const queryAt = options.url.indexOf("?")
  const path = queryAt === -1 ? options.url : options.url.slice(0, queryAt)
  const searchParams = new URLSearchParams(queryAt === -1 ? "" : options.url.slice(queryAt + 1))
  const query: Record<string, string> = {}
  for (const [key, value] of searchParams) {
    if (!(key in query)) query[key] = value
  }
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    headers[key.toLowerCase()] = value
  }
  const body = typeof options.body === "string"
    ? new TextEncoder().encode(options.body)
    : options.body ?? new Uint8Array(0)
  const method = (options.method ?? "GET").toUpperCase()
  let text: string | undefined
  const self: FakeRequest = {
    [TypeId]: TypeId,
    seq: options.seq ?? 0,
    method,
    url: options.url,
    path: path === "" ? "/" : path,
    query,
    searchParams,
    headers,
    body,
    get text() {
      if (text === undefined) text = decoder.decode(body)
      return text
    },
    get json() {
      return json(self)
    },
    receivedAt: options.receivedAt ?? Date.now()
  }
  return self
}

/**
 * The body decoded as UTF-8.
 *
 * @since 0.1.0
 * @category Accessors
 */
export const text = (self: FakeRequest): string => self.text

/**
 * The body parsed as JSON.
 *
 * @since 0.1.0
 * @category Accessors
 */
export const json = (self: FakeRequest): Effect.Effect<unknown, FakeRequestError> =>
  Effect.try({
    try: () => JSON.parse(self.text) as unknown,
    catch: (cause) => new FakeRequestError({ reason: "Json", method: self.method, path: self.path, cause })
  })

/**
 * The body parsed as JSON and decoded with a schema.
 *
 * @since 0.1.0
 * @category Accessors
 */
export const schemaBodyJson =
  <A, I, R>(schema: Schema.Schema<A, I, R>) =>
  (self: FakeRequest): Effect.Effect<A, FakeRequestError | ParseResult.ParseError, R> =>
    Effect.flatMap(json(self), Schema.decodeUnknown(schema))

/**
 * The body parsed as `multipart/form-data` or `application/x-www-form-urlencoded`, using the
 * request's `content-type` header (through the WHATWG `Response.formData()` of Node's fetch).
 *
 * @since 0.1.0
 * @category Accessors
 */
export const formData = (self: FakeRequest): Effect.Effect<FormData, FakeRequestError> =>
  Effect.tryPromise({
    try: () => new Response(self.body, { headers: { "content-type": self.headers["content-type"] ?? "" } }).formData(),
    catch: (cause) => new FakeRequestError({ reason: "FormData", method: self.method, path: self.path, cause })
  })

/**
 * A header by name (case-insensitive).
 *
 * @since 0.1.0
 * @category Accessors
 */
export const header: {
  (name: string): (self: FakeRequest) => Option.Option<string>
  (self: FakeRequest, name: string): Option.Option<string>
} = dual(
  2,
  (self: FakeRequest, name: string): Option.Option<string> => Option.fromNullable(self.headers[name.toLowerCase()])
)

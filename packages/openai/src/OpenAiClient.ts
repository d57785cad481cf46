/**
 * A small client for the OpenAI Images API (`/images/generations` and `/images/edits`, JSON, multipart and
 * server-sent events), also used for OpenAI-compatible servers. It maps every failure to an `ImageError`
 * and never retries: the `ImageGen` router does.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as ImageError from "@image-gen/core/ImageError"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * `https://api.openai.com/v1`.
 *
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "https://api.openai.com/v1"

// ---------------------------------------------------------------------------------------------------------
// Wire schemas
// ---------------------------------------------------------------------------------------------------------

const TokenDetails = Schema.Struct({
  text_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  image_tokens: Schema.optional(Schema.NullOr(Schema.Number))
})

/**
 * `usage` of GPT image responses.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImageUsage = Schema.Struct({
  input_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  output_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  total_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  input_tokens_details: Schema.optional(Schema.NullOr(TokenDetails)),
  output_tokens_details: Schema.optional(Schema.NullOr(TokenDetails))
})

/**
 * @since 0.1.0
 * @category Models
 */
export type ImageUsage = typeof ImageUsage.Type

/**
 * One item of `data[]`.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImageData = Schema.Struct({
  b64_json: Schema.optional(Schema.NullOr(Schema.String)),
  url: Schema.optional(Schema.NullOr(Schema.String)),
  revised_prompt: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * The non-streaming response of both endpoints (`ImagesResponse`).
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImagesResponse = Schema.Struct({
  created: Schema.Number,
  data: Schema.optionalWith(Schema.Array(ImageData), { nullable: true, default: () => [] }),
  background: Schema.optional(Schema.NullOr(Schema.String)),
  output_format: Schema.optional(Schema.NullOr(Schema.String)),
  quality: Schema.optional(Schema.NullOr(Schema.String)),
  size: Schema.optional(Schema.NullOr(Schema.String)),
  usage: Schema.optional(Schema.NullOr(ImageUsage))
})

/**
 * @since 0.1.0
 * @category Models
 */
export type ImagesResponse = typeof ImagesResponse.Type

/**
 * One server-sent event of a streaming call: `image_generation.partial_image`,
 * `image_generation.completed`, `image_edit.partial_image` or `image_edit.completed`.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImageStreamEvent = Schema.Struct({
  type: Schema.String,
  b64_json: Schema.optional(Schema.NullOr(Schema.String)),
  partial_image_index: Schema.optional(Schema.NullOr(Schema.Number)),
  created_at: Schema.optional(Schema.NullOr(Schema.Number)),
  size: Schema.optional(Schema.NullOr(Schema.String)),
  quality: Schema.optional(Schema.NullOr(Schema.String)),
  background: Schema.optional(Schema.NullOr(Schema.String)),
  output_format: Schema.optional(Schema.NullOr(Schema.String)),
  usage: Schema.optional(Schema.NullOr(ImageUsage))
})

/**
 * @since 0.1.0
 * @category Models
 */
export type ImageStreamEvent = typeof ImageStreamEvent.Type

/**
 * The error envelope `{ "error": { "message", "type", "param", "code" } }`.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    message: Schema.optional(Schema.NullOr(Schema.String)),
    type: Schema.optional(Schema.NullOr(Schema.String)),
    param: Schema.optional(Schema.NullOr(Schema.String)),
    code: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, Schema.Number)))
  })
})

// ---------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------

/**
 * A file part of a multipart edit.
 *
 * @since 0.1.0
 * @category Models
 */
export interface FilePart {
  readonly data: Uint8Array
  readonly mediaType: string
  readonly name: string
}

/**
 * The body of `POST /images/edits`: multipart (files) or JSON (`images: [{ image_url }]`, GPT image models).
 *
 * @since 0.1.0
 * @category Models
 */
export type EditBody =
  | {
    readonly _tag: "Multipart"
    /** Text fields; numbers and booleans are sent with `String(value)`, as the official SDK does. */
    readonly fields: Readonly<Record<string, unknown>>
    readonly images: ReadonlyArray<FilePart>
    readonly mask?: FilePart | undefined
  }
  | { readonly _tag: "Json"; readonly body: Readonly<Record<string, unknown>> }

/**
 * A successful non-streaming call.
 *
 * @since 0.1.0
 * @category Models
 */
export interface ImagesResult {
  readonly response: ImagesResponse
  /** The `x-request-id` header. */
  readonly requestId: string | undefined
}

/**
 * A streaming call: the request id and the decoded events. A server that ignores `stream` and answers
 * JSON gives one `*.completed` event per image.
 *
 * @since 0.1.0
 * @category Models
 */
export interface ImagesStream {
  readonly requestId: string | undefined
  readonly events: Stream.Stream<ImageStreamEvent, ImageError.ImageError>
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The provider id used in errors (`openai`, `openai-compatible`, ...). */
  readonly provider: string
  readonly apiUrl: string
  /** Where the key comes from, named in authentication errors. */
  readonly keyName: string | undefined
  /** `POST /images/generations` (JSON). */
  readonly generate: (body: Readonly<Record<string, unknown>>) => Effect.Effect<ImagesResult, ImageError.ImageError>
  /** `POST /images/edits` (multipart or JSON). */
  readonly edit: (body: EditBody) => Effect.Effect<ImagesResult, ImageError.ImageError>
  /** `POST /images/generations` with `stream: true`; the events end when the scope closes. */
  readonly generateStream: (
    body: Readonly<Record<string, unknown>>
  ) => Effect.Effect<ImagesStream, ImageError.ImageError, Scope.Scope>
  /** `POST /images/edits` with `stream: true`. */
  readonly editStream: (body: EditBody) => Effect.Effect<ImagesStream, ImageError.ImageError, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class OpenAiClient extends Context.Tag("@image-gen/openai/OpenAiClient")<OpenAiClient, Service>() {}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Sent as `Authorization: Bearer <key>` (or in `apiKeyHeader`). Without one, no key is sent. */
  readonly apiKey?: Redacted.Redacted | undefined
  /** Base URL including `/v1`. Default `https://api.openai.com/v1`. */
  readonly apiUrl?: string | undefined
  /** A header carrying the raw key instead of `Authorization: Bearer` (for gateways using `api-key`). */
  readonly apiKeyHeader?: string | undefined
  /** Fail with `AuthenticationError` before any call when no key is configured. Default true. */
  readonly requireApiKey?: boolean | undefined
  /** `OpenAI-Organization`. */
  readonly organization?: string | undefined
  /** `OpenAI-Project`. */
  readonly project?: string | undefined
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Per-call timeout. Default 10 minutes (as the official SDK). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Provider id in errors. Default `openai`. */
  readonly provider?: string | undefined
  /** The env var or option holding the key, for error messages. Default `OPENAI_API_KEY`. */
  readonly keyName?: string | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

const safetyCodes = new Set(["moderation_blocked", "content_policy_violation"])
const retiredText = /deprecat|retired|shut ?down|no longer (available|supported)|has been removed/i

/**
 * The typed error of a non-2xx answer, reading the OpenAI envelope: safety codes become
 * `ContentBlocked`, a `model_not_found` naming a deprecated model becomes `ModelRetired`,
 * `insufficient_quota` is not retryable, `409` is retryable, the rest follows `ProviderHttp.statusError`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const statusError = (
  call: ProviderHttp.CallSite,
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  body: string,
  nowMillis: number
): ImageError.ImageError => {
  const parsed = Option.getOrUndefined(
    Schema.decodeUnknownOption(Schema.parseJson(ErrorBody))(body)
  )?.error
  const code = parsed?.code === undefined || parsed.code === null ? undefined : String(parsed.code)
  const type = parsed?.type ?? undefined
  const message = parsed?.message ?? ProviderHttp.errorDetail(body)
  const where = {
    provider: call.provider,
    ...(call.model === undefined ? {} : { model: call.model }),
    ...(call.requestId === undefined ? {} : { requestId: call.requestId })
  }
  if (
    (code !== undefined && safetyCodes.has(code)) ||
    (type === "image_generation_user_error" && /safety|moderat/i.test(message))
  ) {
    return new ImageError.ContentBlocked({ ...where, reason: code === undefined ? message : `${code}: ${message}` })
  }
  if (code === "model_not_found" || (status === 404 && /model/i.test(message) && retiredText.test(message))) {
    if (retiredText.test(message) && call.model !== undefined) {
      return new ImageError.ModelRetired({ provider: call.provider, model: call.model })
    }
    return new ImageError.InvalidRequest({ ...where, status, field: "model", detail: message || "model not found" })
  }
  if (status === 429 && (code === "insufficient_quota" || type === "insufficient_quota")) {
    return new ImageError.InvalidRequest({
      ...where,
      status,
      detail: `insufficient quota (not retried): ${message}`
    })
  }
  if (status === 409) {
    return new ImageError.ProviderUnavailable({ ...where, status, ...(message ? { detail: message } : {}) })
  }
  if ((status === 400 || status === 422) && parsed !== undefined) {
    return new ImageError.InvalidRequest({
      ...where,
      status,
      ...(parsed.param ? { field: parsed.param } : {}),
      detail: message || `HTTP ${status}`
    })
  }
  return ProviderHttp.statusError(call, status, headers, body, nowMillis)
}

/** Maps an error object found in a stream (`{ error: {...} }` or `{ type: "error", ... }`). */
const streamError = (call: ProviderHttp.CallSite, json: unknown): ImageError.ImageError => {
  const o = json as { readonly error?: unknown; readonly code?: unknown; readonly message?: unknown }
  const inner = (typeof o.error === "object" && o.error !== null ? o.error : o) as {
    readonly code?: unknown
    readonly message?: unknown
    readonly type?: unknown
  }
  const code = typeof inner.code === "string" ? inner.code : undefined
  const status = code === "rate_limit_exceeded"
    ? 429
    : code !== undefined && safetyCodes.has(code)
    ? 400
    : code === "server_error" || inner.type === "server_error" || code === undefined
    ? 500
    : 400
  return statusError(call, status, {}, JSON.stringify({ error: inner }), 0)
}

// ---------------------------------------------------------------------------------------------------------
// Constructor
// ---------------------------------------------------------------------------------------------------------

const encodeField = (value: unknown): string =>
  typeof value === "string"
    ? value
    : typeof value === "object" && value !== null
    ? JSON.stringify(value)
    : String(value)

/**
 * A multipart body laid out as the official SDK does: text fields first (numbers and booleans with
 * `String(value)`), then one file as `image` or several as repeated `image[]`, then `mask`.
 */
const multipart = (body: Extract<EditBody, { _tag: "Multipart" }>): Effect.Effect<HttpBody.HttpBody> =>
  ProviderHttp.multipartBody([
    ...Object.entries(body.fields).flatMap(([name, value]) =>
      value === undefined || value === null ? [] : [{ name, value: encodeField(value) }]
    ),
    ...body.images.map((image) => ({
      name: body.images.length === 1 ? "image" : "image[]",
      data: image.data,
      mediaType: image.mediaType,
      fileName: image.name
    })),
    ...(body.mask === undefined
      ? []
      : [{ name: "mask", data: body.mask.data, mediaType: body.mask.mediaType, fileName: body.mask.name }])
  ])

const bodyOf = (edit: EditBody, stream: boolean): Effect.Effect<HttpBody.HttpBody> =>
  edit._tag === "Json"
    ? Effect.succeed(HttpBody.unsafeJson({ ...edit.body, ...(stream ? { stream: true } : {}) }))
    : multipart(stream ? { ...edit, fields: { ...edit.fields, stream: true } } : edit)

/** Splits a text stream into server-sent events. */
const sseEvents = <E, R>(
  lines: Stream.Stream<string, E, R>
): Stream.Stream<{ readonly event: string; readonly data: string }, E, R> =>
  lines.pipe(
    Stream.concat(Stream.make("")),
    Stream.mapAccum(
      { event: "", data: [] as ReadonlyArray<string> },
      (state, line): readonly [
        { event: string; data: ReadonlyArray<string> },
        Option.Option<{ event: string; data: string }>
      ] => {
        if (line === "") {
          return state.data.length === 0
            ? [{ event: "", data: [] }, Option.none()]
            : [{ event: "", data: [] }, Option.some({ event: state.event, data: state.data.join("\n") })]
        }
        if (line.startsWith(":")) return [state, Option.none()]
        const at = line.indexOf(":")
        const field = at === -1 ? line : line.slice(0, at)
        const value = at === -1 ? "" : line.slice(at + 1).replace(/^ /, "")
        if (field === "event") return [{ ...state, event: value }, Option.none()]
        if (field === "data") return [{ ...state, data: [...state.data, value] }, Option.none()]
        return [state, Option.none()]
      }
    ),
    Stream.filterMap(identity)
  )

/**
 * Builds a client. Requires a `Scope` (it registers custom key headers as redacted for the scope).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const provider = options.provider ?? "openai"
    const keyName = options.keyName ?? "OPENAI_API_KEY"
    const apiUrl = (options.apiUrl ?? defaultApiUrl).replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.minutes(10))
    const apiKey = options.apiKey
    const keyHeader = options.apiKeyHeader
    if (keyHeader !== undefined) {
      yield* Effect.locallyScopedWith(Headers.currentRedactedNames, Arr.append(keyHeader.toLowerCase()))
    }
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(apiUrl),
          apiKey === undefined
            ? identity
            : keyHeader === undefined
            ? HttpClientRequest.bearerToken(apiKey)
            : HttpClientRequest.setHeader(keyHeader, Redacted.value(apiKey)),
          options.organization === undefined
            ? identity
            : HttpClientRequest.setHeader("OpenAI-Organization", options.organization),
          options.project === undefined ? identity : HttpClientRequest.setHeader("OpenAI-Project", options.project),
          HttpClientRequest.setHeaders(options.headers ?? {})
        )
      ),
      options.transformClient ?? identity
    )

    const site = (body: Readonly<Record<string, unknown>>, requestId?: string): ProviderHttp.CallSite => ({
      provider,
      keyName,
      ...(typeof body.model === "string" ? { model: body.model } : {}),
      ...(requestId === undefined ? {} : { requestId })
    })

    const checkKey = (call: ProviderHttp.CallSite): Effect.Effect<void, ImageError.ImageError> =>
      apiKey === undefined && options.requireApiKey !== false
        ? Effect.fail(
          new ImageError.AuthenticationError({
            provider,
            ...(call.model === undefined ? {} : { model: call.model }),
            keyName,
            detail: "no API key is configured"
          })
        )
        : Effect.void

    const failed = (call: ProviderHttp.CallSite, response: HttpClientResponse.HttpClientResponse) =>
      Effect.gen(function*() {
        const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
        const now = yield* Clock.currentTimeMillis
        const requestId = response.headers["x-request-id"]
        return yield* Effect.fail(
          statusError(
            requestId === undefined ? call : { ...call, requestId },
            response.status,
            response.headers,
            text,
            now
          )
        )
      })

    const send = (path: string, body: HttpBody.HttpBody, call: ProviderHttp.CallSite, accept: string) =>
      checkKey(call).pipe(
        Effect.zipRight(
          client.execute(
            HttpClientRequest.post(path).pipe(
              HttpClientRequest.setBody(body),
              HttpClientRequest.setHeader("accept", accept)
            )
          )
        ),
        Effect.flatMap((response) =>
          response.status >= 200 && response.status < 300 ? Effect.succeed(response) : failed(call, response)
        )
      )

    const decodeJson = (call: ProviderHttp.CallSite, response: HttpClientResponse.HttpClientResponse) => {
      const requestId = response.headers["x-request-id"]
      return response.text.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.parseJson(ImagesResponse))),
        Effect.map((decoded): ImagesResult => ({ response: decoded, requestId })),
        ProviderHttp.mapErrors(requestId === undefined ? call : { ...call, requestId })
      )
    }

    const call = (path: string, body: HttpBody.HttpBody, fields: Readonly<Record<string, unknown>>) => {
      const where = site(fields)
      return send(path, body, where, "application/json").pipe(
        Effect.flatMap((response) => decodeJson(where, response)),
        Effect.scoped,
        Effect.timeout(timeout),
        ProviderHttp.mapErrors(where, Duration.toMillis(timeout))
      )
    }

    const openStream = (path: string, body: HttpBody.HttpBody, fields: Readonly<Record<string, unknown>>) => {
      const where = site(fields)
      return send(path, body, where, "text/event-stream").pipe(
        Effect.timeout(timeout),
        ProviderHttp.mapErrors(where, Duration.toMillis(timeout)),
        Effect.map((response): ImagesStream => {
          const requestId = response.headers["x-request-id"]
          const at = requestId === undefined ? where : { ...where, requestId }
          const toImageError = (e: HttpClientError.HttpClientError | ParseResult.ParseError | ImageError.ImageError) =>
            Stream.fromEffect(Effect.fail(e).pipe(ProviderHttp.mapErrors(at)))
          const contentType = response.headers["content-type"] ?? ""
          if (contentType.includes("application/json")) {
            // The server ignored `stream`: one completed event per image.
            const kind = path.endsWith("edits") ? "image_edit" : "image_generation"
            return {
              requestId,
              events: Stream.unwrap(
                Effect.map(
                  decodeJson(at, response),
                  ({ response: r }) =>
                    Stream.fromIterable(r.data.map((d): ImageStreamEvent => ({
                      type: `${kind}.completed`,
                      b64_json: d.b64_json ?? null,
                      size: r.size ?? null,
                      quality: r.quality ?? null,
                      background: r.background ?? null,
                      output_format: r.output_format ?? null,
                      usage: r.usage ?? null
                    })))
                )
              ).pipe(Stream.timeout(timeout))
            }
          }
          const events = response.stream.pipe(
            Stream.decodeText(),
            Stream.splitLines,
            sseEvents,
            Stream.filter((e) => e.data.trim() !== "[DONE]"),
            Stream.mapEffect((e) =>
              Effect.gen(function*() {
                const json = yield* Schema.decodeUnknown(Schema.parseJson())(e.data)
                const o = json as Record<string, unknown> | null
                if (
                  o !== null && typeof o === "object" &&
                  (o.error !== undefined || o.type === "error" || e.event === "error")
                ) {
                  return yield* Effect.fail(streamError(at, json))
                }
                return yield* Schema.decodeUnknown(ImageStreamEvent)(json)
              })
            ),
            Stream.catchAll(toImageError),
            Stream.timeoutFail(
              () => new ImageError.RequestTimeout({ ...at, timeoutMillis: Duration.toMillis(timeout) }),
              timeout
            )
          )
          return { requestId, events }
        })
      )
    }

    return OpenAiClient.of({
      provider,
      apiUrl,
      keyName,
      generate: (body) => call("/images/generations", HttpBody.unsafeJson(body), body),
      edit: (body) =>
        Effect.flatMap(
          bodyOf(body, false),
          (encoded) => call("/images/edits", encoded, body._tag === "Json" ? body.body : body.fields)
        ),
      generateStream: (body) => openStream("/images/generations", HttpBody.unsafeJson({ ...body, stream: true }), body),
      editStream: (body) =>
        Effect.flatMap(
          bodyOf(body, true),
          (encoded) => openStream("/images/edits", encoded, body._tag === "Json" ? body.body : body.fields)
        )
    })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<OpenAiClient, never, HttpClient.HttpClient> =>
  Layer.scoped(OpenAiClient, make(options))

/**
 * Configuration read from the environment.
 *
 * @since 0.1.0
 * @category Configuration
 */
export interface ConfigOptions {
  readonly apiKey?: Config.Config<Option.Option<Redacted.Redacted>> | undefined
  readonly apiUrl?: Config.Config<string> | undefined
  readonly organization?: Config.Config<Option.Option<string>> | undefined
  readonly project?: Config.Config<Option.Option<string>> | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * Reads `OPENAI_API_KEY` (optional here; calls fail with `AuthenticationError` naming it when it is
 * missing), `OPENAI_BASE_URL` (default `https://api.openai.com/v1`), `OPENAI_ORG_ID` and
 * `OPENAI_PROJECT_ID`.
 *
 * @since 0.1.0
 * @category Configuration
 */
export const config = (options: ConfigOptions = {}): Config.Config<Options> =>
  Config.all({
    apiKey: options.apiKey ?? Config.option(Config.redacted("OPENAI_API_KEY")),
    apiUrl: options.apiUrl ?? Config.string("OPENAI_BASE_URL").pipe(Config.withDefault(defaultApiUrl)),
    organization: options.organization ?? Config.option(Config.string("OPENAI_ORG_ID")),
    project: options.project ?? Config.option(Config.string("OPENAI_PROJECT_ID"))
  }).pipe(Config.map((c): Options => ({
    apiKey: Option.getOrUndefined(c.apiKey),
    apiUrl: c.apiUrl,
    organization: Option.getOrUndefined(c.organization),
    project: Option.getOrUndefined(c.project),
    transformClient: options.transformClient
  })))

/**
 * The client from the environment (see `config`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<OpenAiClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(OpenAiClient, Effect.flatMap(config(options), make))

/**
 * A small client for fal.ai's queue API (`queue.fal.run`) and storage API (`rest.fal.ai`): submit,
 * status (polled or streamed over SSE), result, cancel and input uploads. Every failure is a typed
 * `ImageError`; the client never retries by itself (the router and `Polling` do).
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as ImageError from "@image-gen/core/ImageError"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultQueueUrl = "https://queue.fal.run"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultRestUrl = "https://rest.fal.ai"

/**
 * The environment variable named in authentication errors.
 *
 * @since 0.1.0
 * @category Constants
 */
export const keyName = "FAL_KEY"

/**
 * An endpoint id split as fal does: `fal-ai/flux/dev` is owner `fal-ai`, alias `flux`, path `dev`.
 * Submit goes to the full id; status, result and cancel go to `[namespace/]owner/alias` only.
 *
 * @since 0.1.0
 * @category Models
 */
export interface EndpointId {
  readonly id: string
  readonly namespace: string | undefined
  readonly owner: string
  readonly alias: string
  readonly path: string | undefined
  /** `[namespace/]owner/alias`, the prefix of status, result and cancel URLs. */
  readonly app: string
}

const namespaces = ["workflows", "comfy"]

/**
 * Parses an endpoint id with fal's rules (legacy `12345-my-app` ids become `12345/my-app`; the
 * `workflows` and `comfy` namespaces stay in front of the owner).
 *
 * @since 0.1.0
 * @category Parsing
 */
export const parseEndpointId = (raw: string): Effect.Effect<EndpointId, ImageError.InvalidRequest> => {
  const id = raw.trim().replace(/^\/+|\/+$/g, "")
  let parts = id.split("/").filter((p) => p !== "")
  if (parts.length === 1) {
    const legacy = /^([0-9]+)-([a-zA-Z0-9-]+)$/.exec(parts[0]!)
    if (legacy !== null) parts = [legacy[1]!, legacy[2]!]
  }
  const namespace = parts.length > 0 && namespaces.includes(parts[0]!) ? parts[0] : undefined
  const rest = namespace === undefined ? parts : parts.slice(1)
  if (rest.length < 2) {
    return Effect.fail(
      new ImageError.InvalidRequest({
        provider: "fal",
        model: raw,
        field: "model",
        detail: `"${raw}" is not a fal endpoint id; use owner/alias[/path], e.g. fal-ai/flux/dev`
      })
    )
  }
  const owner = rest[0]!
  const alias = rest[1]!
  const path = rest.length > 2 ? rest.slice(2).join("/") : undefined
  const prefix = namespace === undefined ? "" : `${namespace}/`
  return Effect.succeed({
    id: parts.join("/"),
    namespace,
    owner,
    alias,
    path,
    app: `${prefix}${owner}/${alias}`
  })
}

/**
 * What submit returns.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const SubmitResponse = Schema.Struct({
  request_id: Schema.String,
  status: Schema.optional(Schema.String),
  status_url: Schema.optional(Schema.String),
  response_url: Schema.optional(Schema.String),
  cancel_url: Schema.optional(Schema.String),
  queue_position: Schema.optional(Schema.NullOr(Schema.Number))
})

/**
 * One log line of a running request.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const LogEntry = Schema.Struct({
  message: Schema.String,
  level: Schema.optional(Schema.NullOr(Schema.String)),
  source: Schema.optional(Schema.NullOr(Schema.String)),
  timestamp: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * @since 0.1.0
 * @category Models
 */
export type LogEntry = typeof LogEntry.Type

/**
 * A queue status, from the status endpoint or one event of the status stream. `COMPLETED` does not
 * mean success: a failed request is also `COMPLETED`, optionally with `error` / `error_type`, and its
 * result call returns the model's error.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const QueueStatus = Schema.Struct({
  status: Schema.Literal("IN_QUEUE", "IN_PROGRESS", "COMPLETED"),
  request_id: Schema.optional(Schema.String),
  queue_position: Schema.optional(Schema.NullOr(Schema.Number)),
  logs: Schema.optional(Schema.NullOr(Schema.Array(LogEntry))),
  metrics: Schema.optional(
    Schema.NullOr(Schema.Struct({ inference_time: Schema.optional(Schema.NullOr(Schema.Number)) }))
  ),
  error: Schema.optional(Schema.NullOr(Schema.String)),
  error_type: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * @since 0.1.0
 * @category Models
 */
export type QueueStatus = typeof QueueStatus.Type

/**
 * Everything needed to address a submitted request.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Handle {
  readonly endpoint: EndpointId
  readonly requestId: string
  /** The submit response as received. */
  readonly submitted: typeof SubmitResponse.Type
}

/**
 * A result: the model's output JSON and fal's request id.
 *
 * @since 0.1.0
 * @category Models
 */
export interface QueueResult {
  readonly data: unknown
  readonly requestId: string | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface SubmitOptions {
  /** Sent as `?fal_webhook=`: fal POSTs the result there when the request finishes. */
  readonly webhookUrl?: string | undefined
  /** Extra request headers (`X-Fal-Queue-Priority`, `X-Fal-Request-Timeout`, ...). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly queueUrl: string
  readonly restUrl: string
  /** Submits a request to the full endpoint path. The paid step: never repeat it after a response. */
  readonly submit: (
    endpoint: EndpointId,
    input: unknown,
    options?: SubmitOptions
  ) => Effect.Effect<Handle, ImageError.ImageError>
  /** One status check (`GET {app}/requests/{id}/status?logs=0|1`). */
  readonly status: (handle: Handle, options?: { readonly logs?: boolean }) => Effect.Effect<
    QueueStatus,
    ImageError.ImageError
  >
  /** The status stream (`GET {app}/requests/{id}/status/stream`), one element per SSE event. */
  readonly streamStatus: (handle: Handle, options?: { readonly logs?: boolean }) => Stream.Stream<
    QueueStatus,
    ImageError.ImageError
  >
  /** The result (`GET {app}/requests/{id}`): the model's output, or the model's error. */
  readonly result: (handle: Handle) => Effect.Effect<QueueResult, ImageError.ImageError>
  /** `PUT {app}/requests/{id}/cancel`. */
  readonly cancel: (handle: Handle) => Effect.Effect<void, ImageError.ImageError>
  /** Uploads bytes to fal storage (initiate, then PUT to the signed URL); returns the file URL. */
  readonly upload: (
    data: Uint8Array,
    contentType: string,
    fileName?: string
  ) => Effect.Effect<string, ImageError.ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FalClient extends Context.Tag("@image-gen/fal/FalClient")<FalClient, Service>() {}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** `FAL_KEY`, or `KEY_ID:KEY_SECRET`. Without one, every call fails with `AuthenticationError`. */
  readonly apiKey?: Redacted.Redacted | undefined
  /** Default `https://queue.fal.run`. */
  readonly queueUrl?: string | undefined
  /** Default `https://rest.fal.ai`. */
  readonly restUrl?: string | undefined
  /** Timeout of one call (not of the status stream). Default 60 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

const trimSlash = (url: string) => url.replace(/\/+$/, "")

/** `loc` without the leading `body`, as a dotted field name. */
const fieldOf = (loc: unknown): string | undefined => {
  if (!Array.isArray(loc)) return undefined
  const parts = loc.filter((p, i) => !(i === 0 && p === "body")).map(String)
  return parts.length === 0 ? undefined : parts.join(".")
}

interface ParsedError {
  readonly detail: string
  readonly field: string | undefined
  readonly types: ReadonlyArray<string>
  readonly errorType: string | undefined
}

/**
 * Reads fal's two error shapes: model errors `{"detail": [{loc, msg, type}, ...]}` (or a string
 * `detail`), and request errors `{"detail": "...", "error_type": "..."}`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const parseErrorBody = (body: string, headers: Readonly<Record<string, string | undefined>>): ParsedError => {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    json = undefined
  }
  const headerType = headers["x-fal-error-type"]
  if (typeof json !== "object" || json === null) {
    return { detail: ProviderHttp.errorDetail(body), field: undefined, types: [], errorType: headerType }
  }
  const o = json as Record<string, unknown>
  const errorType = typeof o.error_type === "string" ? o.error_type : headerType
  const detail = o.detail
  if (Array.isArray(detail) && detail.length > 0) {
    const items = detail.filter((d): d is Record<string, unknown> => typeof d === "object" && d !== null)
    const first = items[0]
    const field = first === undefined ? undefined : fieldOf(first.loc)
    const text = items
      .map((d) => {
        const f = fieldOf(d.loc)
        const msg = typeof d.msg === "string" ? d.msg : JSON.stringify(d)
        return f === undefined ? msg : `${f}: ${msg}`
      })
      .join("; ")
    return {
      detail: text.length > 300 ? `${text.slice(0, 300)}…` : text,
      field,
      types: items.map((d) => (typeof d.type === "string" ? d.type : "")).filter((t) => t !== ""),
      errorType
    }
  }
  return {
    detail: ProviderHttp.errorDetail(body),
    field: undefined,
    types: errorType === undefined ? [] : [errorType],
    errorType
  }
}

const contentPolicy = /content[_ ]policy|nsfw|safety/i

/**
 * Maps a non-2xx fal answer to an `ImageError`: 422 `content_policy_violation` is `ContentBlocked`,
 * other 422s are `InvalidRequest` naming the field, 401/403 `AuthenticationError` naming `FAL_KEY`,
 * 429 `RateLimited` with `Retry-After`, 5xx `ProviderUnavailable` (`JobFailed` when fal says
 * `X-Fal-Retryable: false` or the 504 is the caller's own start timeout).
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
  const parsed = parseErrorBody(body, headers)
  const where = {
    provider: call.provider,
    ...(call.model === undefined ? {} : { model: call.model }),
    ...(call.requestId === undefined ? {} : { requestId: call.requestId })
  }
  if (
    parsed.types.includes("content_policy_violation") ||
    (status === 422 && parsed.errorType !== undefined && contentPolicy.test(parsed.errorType))
  ) {
    return new ImageError.ContentBlocked({ ...where, reason: parsed.detail || "content_policy_violation" })
  }
  if (status === 422 || status === 400) {
    return new ImageError.InvalidRequest({
      ...where,
      status,
      ...(parsed.field === undefined ? {} : { field: parsed.field }),
      detail: parsed.detail || `HTTP ${status}`
    })
  }
  const userTimeout = status === 504 && headers["x-fal-request-timeout-type"] === "user"
  const retryable = headers["x-fal-retryable"] ?? headers["x-fal-needs-retry"]
  if (status >= 500 && (userTimeout || retryable === "false")) {
    return new ImageError.JobFailed({
      ...where,
      detail: userTimeout
        ? `the request did not start within its start timeout (X-Fal-Request-Timeout)${
          parsed.detail ? `: ${parsed.detail}` : ""
        }`
        : `HTTP ${status}${parsed.errorType === undefined ? "" : ` ${parsed.errorType}`}: ${parsed.detail}`
    })
  }
  const detail = parsed.errorType === undefined || parsed.detail.includes(parsed.errorType)
    ? parsed.detail
    : `${parsed.detail} (${parsed.errorType})`
  return ProviderHttp.statusError(
    { ...call, keyName: call.keyName ?? keyName },
    status,
    headers,
    JSON.stringify({ message: detail }),
    nowMillis
  )
}

const failWith = (call: ProviderHttp.CallSite, response: HttpClientResponse.HttpClientResponse) =>
  Effect.gen(function*() {
    const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const now = yield* Clock.currentTimeMillis
    return yield* Effect.fail(statusError(call, response.status, response.headers, body, now))
  })

/** Parses `text/event-stream` bytes into the `data` of each event. */
const sseData = <E>(bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<string, E> =>
  bytes.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.mapAccum([] as ReadonlyArray<string>, (data, line): [ReadonlyArray<string>, Option.Option<string>] => {
      if (line === "") return [[], data.length === 0 ? Option.none() : Option.some(data.join("\n"))]
      if (line.startsWith(":")) return [data, Option.none()]
      const colon = line.indexOf(":")
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
      return field === "data" ? [[...data, value], Option.none()] : [data, Option.none()]
    }),
    Stream.filterMap(identity)
  )

/**
 * Builds the client.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const queueUrl = trimSlash(options.queueUrl ?? defaultQueueUrl)
    const restUrl = trimSlash(options.restUrl ?? defaultRestUrl)
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(60))
    const base = (yield* HttpClient.HttpClient).pipe(options.transformClient ?? identity)
    const apiKey = options.apiKey

    const site = (model?: string, requestId?: string): ProviderHttp.CallSite => ({
      provider: "fal",
      keyName,
      ...(model === undefined ? {} : { model }),
      ...(requestId === undefined ? {} : { requestId })
    })

    const authorized = (
      request: HttpClientRequest.HttpClientRequest,
      call: ProviderHttp.CallSite
    ): Effect.Effect<HttpClientRequest.HttpClientRequest, ImageError.AuthenticationError> =>
      apiKey === undefined
        ? Effect.fail(
          new ImageError.AuthenticationError({
            provider: "fal",
            ...(call.model === undefined ? {} : { model: call.model }),
            keyName,
            detail: "no key configured (set FAL_KEY, or FAL_KEY_ID and FAL_KEY_SECRET)"
          })
        )
        : Effect.succeed(
          request.pipe(
            HttpClientRequest.setHeader("authorization", `Key ${Redacted.value(apiKey)}`),
            request.headers["accept"] === undefined ? HttpClientRequest.acceptJson : identity
          )
        )

    /** Sends a request; non-2xx answers become typed errors. */
    const send = (request: HttpClientRequest.HttpClientRequest, call: ProviderHttp.CallSite, auth = true) =>
      (auth ? authorized(request, call) : Effect.succeed(request)).pipe(
        Effect.flatMap((req) => base.execute(req)),
        Effect.flatMap((response) =>
          response.status >= 200 && response.status < 300 ? Effect.succeed(response) : failWith(call, response)
        )
      )

    const json = <A, I>(
      schema: Schema.Schema<A, I>,
      request: HttpClientRequest.HttpClientRequest,
      call: ProviderHttp.CallSite
    ) =>
      send(request, call).pipe(
        Effect.flatMap((response) => Effect.flatMap(response.json, Schema.decodeUnknown(schema))),
        Effect.timeout(timeout),
        ProviderHttp.mapErrors(call, Duration.toMillis(timeout))
      )

    const requestUrl = (handle: Handle, suffix: string) =>
      `${queueUrl}/${handle.endpoint.app}/requests/${encodeURIComponent(handle.requestId)}${suffix}`

    const submit: Service["submit"] = (endpoint, input, submitOptions = {}) => {
      const call = site(endpoint.id)
      let request = HttpClientRequest.post(`${queueUrl}/${endpoint.id}`).pipe(
        HttpClientRequest.bodyUnsafeJson(input),
        HttpClientRequest.setHeaders(submitOptions.headers ?? {})
      )
      if (submitOptions.webhookUrl !== undefined) {
        request = HttpClientRequest.setUrlParam(request, "fal_webhook", submitOptions.webhookUrl)
      }
      return json(SubmitResponse, request, call).pipe(
        Effect.map((submitted): Handle => ({ endpoint, requestId: submitted.request_id, submitted })),
        Effect.withSpan("fal.submit", { attributes: { "fal.endpoint": endpoint.id } })
      )
    }

    const status: Service["status"] = (handle, statusOptions = {}) =>
      json(
        QueueStatus,
        HttpClientRequest.get(requestUrl(handle, "/status"), {
          urlParams: { logs: statusOptions.logs === true ? "1" : "0" }
        }),
        site(handle.endpoint.id, handle.requestId)
      )

    const streamStatus: Service["streamStatus"] = (handle, statusOptions = {}) => {
      const call = site(handle.endpoint.id, handle.requestId)
      const request = HttpClientRequest.get(requestUrl(handle, "/status/stream"), {
        urlParams: { logs: statusOptions.logs === true ? "1" : "0" },
        headers: { accept: "text/event-stream" }
      })
      return Stream.unwrap(
        send(request, call).pipe(
          Effect.map((response) =>
            sseData(response.stream).pipe(
              Stream.mapEffect((data) =>
                Schema.decodeUnknown(Schema.parseJson(QueueStatus))(data).pipe(
                  Effect.mapError((e) => ProviderHttp.fromParseError(call, e))
                )
              ),
              Stream.catchAll((error) =>
                ImageError.isImageError(error)
                  ? Stream.fail(error)
                  : Stream.fromEffect(Effect.flip(ProviderHttp.fromHttpClientError(call, error)))
              )
            )
          ),
          ProviderHttp.mapErrors(call)
        )
      )
    }

    const result: Service["result"] = (handle) => {
      const call = site(handle.endpoint.id, handle.requestId)
      return send(HttpClientRequest.get(requestUrl(handle, "")), call).pipe(
        Effect.flatMap((response) =>
          Effect.map(response.json, (data): QueueResult => ({
            data,
            requestId: response.headers["x-fal-request-id"] ?? handle.requestId
          }))
        ),
        Effect.timeout(timeout),
        ProviderHttp.mapErrors(call, Duration.toMillis(timeout))
      )
    }

    const cancel: Service["cancel"] = (handle) => {
      const call = site(handle.endpoint.id, handle.requestId)
      return send(HttpClientRequest.put(requestUrl(handle, "/cancel")), call).pipe(
        Effect.asVoid,
        Effect.timeout(timeout),
        ProviderHttp.mapErrors(call, Duration.toMillis(timeout))
      )
    }

    const UploadInitiated = Schema.Struct({ upload_url: Schema.String, file_url: Schema.String })

    const upload: Service["upload"] = (data, contentType, fileName) => {
      const call = site()
      const name = fileName ?? `${Date.now()}.${contentType.split("/")[1]?.split(/[-;+]/)[0] ?? "bin"}`
      return json(
        UploadInitiated,
        HttpClientRequest.post(`${restUrl}/storage/upload/initiate`, {
          urlParams: { storage_type: "fal-cdn-v3" }
        }).pipe(HttpClientRequest.bodyUnsafeJson({ content_type: contentType, file_name: name })),
        call
      ).pipe(
        Effect.tap((initiated) =>
          send(
            HttpClientRequest.put(initiated.upload_url).pipe(HttpClientRequest.bodyUint8Array(data, contentType)),
            call,
            false
          ).pipe(Effect.timeout(timeout), ProviderHttp.mapErrors(call, Duration.toMillis(timeout)))
        ),
        Effect.map((initiated) => initiated.file_url),
        Effect.withSpan("fal.upload")
      )
    }

    return FalClient.of({ queueUrl, restUrl, submit, status, streamStatus, result, cancel, upload })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<FalClient, never, HttpClient.HttpClient> =>
  Layer.effect(FalClient, make(options))

/**
 * The key from `FAL_KEY`, or `FAL_KEY_ID:FAL_KEY_SECRET` when `FAL_KEY` is absent (as fal's SDKs do).
 * `None` when neither is set.
 *
 * @since 0.1.0
 * @category Configuration
 */
export const apiKeyConfig: Config.Config<Option.Option<Redacted.Redacted>> = Config.option(
  Config.redacted("FAL_KEY").pipe(
    Config.orElse(() =>
      Config.all([Config.redacted("FAL_KEY_ID"), Config.redacted("FAL_KEY_SECRET")]).pipe(
        Config.map(([id, secret]) => Redacted.make(`${Redacted.value(id)}:${Redacted.value(secret)}`))
      )
    )
  )
)

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions {
  /** Default: `FAL_KEY` (or `FAL_KEY_ID` + `FAL_KEY_SECRET`), optional. */
  readonly apiKey?: Config.Config<Option.Option<Redacted.Redacted>> | undefined
  /** Default: `FAL_QUEUE_URL`, else `https://queue.fal.run`. */
  readonly queueUrl?: Config.Config<string> | undefined
  /** Default: `FAL_REST_URL`, else `https://rest.fal.ai`. */
  readonly restUrl?: Config.Config<string> | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * Reads the client options through `Config`.
 *
 * @since 0.1.0
 * @category Configuration
 */
export const config = (options: ConfigOptions = {}): Config.Config<Options> =>
  Config.all({
    apiKey: options.apiKey ?? apiKeyConfig,
    queueUrl: options.queueUrl ?? Config.string("FAL_QUEUE_URL").pipe(Config.withDefault(defaultQueueUrl)),
    restUrl: options.restUrl ?? Config.string("FAL_REST_URL").pipe(Config.withDefault(defaultRestUrl))
  }).pipe(
    Config.map(({ apiKey, queueUrl, restUrl }): Options => ({
      apiKey: Option.getOrUndefined(apiKey),
      queueUrl,
      restUrl,
      timeout: options.timeout,
      transformClient: options.transformClient
    }))
  )

/**
 * The client with its options read from the environment: `FAL_KEY` (or `FAL_KEY_ID` and
 * `FAL_KEY_SECRET`), `FAL_QUEUE_URL`, `FAL_REST_URL`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<FalClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(FalClient, Effect.flatMap(config(options), make))

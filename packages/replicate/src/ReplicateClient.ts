/**
 * A small client for Replicate's HTTP API: create a prediction (official models, versioned models,
 * `Prefer: wait`), get and cancel it by the URLs Replicate returns, and upload input files. It requires
 * only `HttpClient.HttpClient` and never retries by itself: the router retries submissions, the polling
 * engine retries status checks.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
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
import type * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * The provider id, used in error messages and addresses.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "replicate"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "https://api.replicate.com/v1"

/**
 * The environment variable holding the API token.
 *
 * @since 0.1.0
 * @category Constants
 */
export const tokenEnvVar = "REPLICATE_API_TOKEN"

/**
 * The environment variable overriding the base URL.
 *
 * @since 0.1.0
 * @category Constants
 */
export const baseUrlEnvVar = "REPLICATE_BASE_URL"

// ---------------------------------------------------------------------------------------------------------
// Wire schemas
// ---------------------------------------------------------------------------------------------------------

/**
 * The `urls` of a prediction. `get` and `cancel` are followed exactly as given.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const PredictionUrls = Schema.Struct({
  get: Schema.optional(Schema.String),
  cancel: Schema.optional(Schema.String),
  stream: Schema.optional(Schema.NullOr(Schema.String)),
  web: Schema.optional(Schema.String)
})

/**
 * A prediction as Replicate returns it from create, get, cancel and in webhooks. Decoded leniently:
 * `status` stays a string so a new status is treated as "still running" instead of a decode failure.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const Prediction = Schema.Struct({
  id: Schema.String,
  model: Schema.optional(Schema.String),
  version: Schema.optional(Schema.NullOr(Schema.String)),
  status: Schema.String,
  input: Schema.optional(Schema.Unknown),
  output: Schema.optional(Schema.Unknown),
  error: Schema.optional(Schema.Unknown),
  logs: Schema.optional(Schema.NullOr(Schema.String)),
  data_removed: Schema.optional(Schema.Boolean),
  created_at: Schema.optional(Schema.NullOr(Schema.String)),
  started_at: Schema.optional(Schema.NullOr(Schema.String)),
  completed_at: Schema.optional(Schema.NullOr(Schema.String)),
  deadline: Schema.optional(Schema.NullOr(Schema.String)),
  metrics: Schema.optional(Schema.NullOr(Schema.Struct({
    predict_time: Schema.optional(Schema.Number),
    total_time: Schema.optional(Schema.Number)
  }))),
  urls: Schema.optional(PredictionUrls)
})

/**
 * @since 0.1.0
 * @category Models
 */
export type Prediction = typeof Prediction.Type

/**
 * A file uploaded through `POST /files`.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const FileObject = Schema.Struct({
  id: Schema.String,
  content_type: Schema.optional(Schema.String),
  size: Schema.optional(Schema.Number),
  checksums: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  metadata: Schema.optional(Schema.Unknown),
  created_at: Schema.optional(Schema.String),
  expires_at: Schema.optional(Schema.NullOr(Schema.String)),
  urls: Schema.Struct({ get: Schema.String })
})

/**
 * @since 0.1.0
 * @category Models
 */
export type FileObject = typeof FileObject.Type

// ---------------------------------------------------------------------------------------------------------
// Model references
// ---------------------------------------------------------------------------------------------------------

/**
 * How a model reference is submitted: `owner/name` to the model's own endpoint, `owner/name:version` or
 * a bare version id to `POST /predictions` with `version`, `deployments/owner/name` to a deployment.
 *
 * @since 0.1.0
 * @category Models
 */
export type ModelRef =
  | { readonly _tag: "Official"; readonly owner: string; readonly name: string }
  | { readonly _tag: "Version"; readonly version: string; readonly owner?: string; readonly name?: string }
  | { readonly _tag: "Deployment"; readonly owner: string; readonly name: string }

/**
 * Parses a model reference, or returns `None` when it is none of the accepted forms.
 *
 * @since 0.1.0
 * @category Parsing
 */
export const parseModelRef = (ref: string): Option.Option<ModelRef> => {
  const trimmed = ref.trim()
  const deployment = /^deployments\/([^/:\s]+)\/([^/:\s]+)$/.exec(trimmed)
  if (deployment !== null) return Option.some({ _tag: "Deployment", owner: deployment[1]!, name: deployment[2]! })
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Option.some({ _tag: "Version", version: trimmed })
  const match = /^([^/:\s]+)\/([^/:\s]+)(?::([^\s/:]+))?$/.exec(trimmed)
  if (match === null) return Option.none()
  const [, owner, name, version] = match
  return version === undefined
    ? Option.some({ _tag: "Official", owner: owner!, name: name! })
    : Option.some({ _tag: "Version", version, owner: owner!, name: name! })
}

// ---------------------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category Models
 */
export interface CreatePrediction {
  /** `owner/name`, `owner/name:version`, a 64-hex version id, or `deployments/owner/name`. */
  readonly model: string
  readonly input: Readonly<Record<string, unknown>>
  readonly webhook?: string | undefined
  readonly webhookEventsFilter?: ReadonlyArray<string> | undefined
  /** Seconds to hold the connection open (`Prefer: wait=N`, 1 to 60); omit for an async create. */
  readonly wait?: number | undefined
  /** Replicate cancels the prediction this long after creation (`Cancel-After`). */
  readonly cancelAfter?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The base URL API paths are resolved against. */
  readonly apiUrl: string
  /** The env var or option that holds the token, named in authentication errors. */
  readonly keyName: string
  /** Creates a prediction. Runs once: never retried here. */
  readonly createPrediction: (
    request: CreatePrediction,
    model?: string
  ) => Effect.Effect<Prediction, ImageError.ImageError>
  /** Gets a prediction by its `urls.get` (followed as given) or by id. */
  readonly getPrediction: (urlOrId: string, model?: string) => Effect.Effect<Prediction, ImageError.ImageError>
  /** Cancels a prediction by its `urls.cancel` (followed as given) or by id. */
  readonly cancelPrediction: (urlOrId: string, model?: string) => Effect.Effect<Prediction, ImageError.ImageError>
  /** Uploads an input file (`POST /files`, multipart). Its `urls.get` can be passed as a model input. */
  readonly uploadFile: (
    file: {
      readonly data: Uint8Array
      readonly mediaType: string
      readonly filename?: string | undefined
      readonly metadata?: unknown
    },
    model?: string
  ) => Effect.Effect<FileObject, ImageError.ImageError>
  /**
   * The caller's `HttpClient` without the API token, for downloading result files from
   * `replicate.delivery` (the token is never sent to another host).
   */
  readonly downloadClient: HttpClient.HttpClient
}

/**
 * @since 0.1.0
 * @category Context
 */
export class ReplicateClient extends Context.Tag("@image-gen/replicate/ReplicateClient")<ReplicateClient, Service>() {}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The API token. Without one every call fails with `AuthenticationError` before any network call. */
  readonly apiKey?: Redacted.Redacted | undefined
  /** Default `https://api.replicate.com/v1` (env `REPLICATE_BASE_URL` with `layerConfig`). */
  readonly apiUrl?: string | undefined
  /** Named in authentication errors. Default `REPLICATE_API_TOKEN`. */
  readonly keyName?: string | undefined
  /** Per-request timeout of API calls (not of `Prefer: wait` holds, which get `wait` + 15 s). Default 60 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Applied to the HTTP client after authentication (add headers, a proxy, ...). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

const trimSlash = (url: string) => url.replace(/\/+$/, "")

const isAbsolute = (url: string) => /^https?:\/\//i.test(url)

/**
 * The problem+json `invalid_fields` of a 422, turned into an `InvalidRequest` naming the field.
 */
const refine422 = (error: ImageError.ImageError, body: string): ImageError.ImageError => {
  if (error._tag !== "InvalidRequest") return error
  try {
    const json = JSON.parse(body) as { readonly invalid_fields?: unknown }
    const fields = Array.isArray(json.invalid_fields) ? json.invalid_fields : []
    const first = fields[0] as { readonly field?: unknown; readonly description?: unknown } | undefined
    if (first === undefined || typeof first.field !== "string") return error
    const field = first.field.replace(/^input\./, "")
    const detail = typeof first.description === "string" ? `${error.detail}: ${first.description}` : error.detail
    return new ImageError.InvalidRequest({
      ...(error.provider === undefined ? {} : { provider: error.provider }),
      ...(error.model === undefined ? {} : { model: error.model }),
      ...(error.status === undefined ? {} : { status: error.status }),
      field,
      detail
    })
  } catch {
    return error
  }
}

/**
 * Builds the client.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    // The token travels only in `Authorization`, which `Headers.currentRedactedNames` redacts by default:
    // no custom secret header to register.
    const base = yield* HttpClient.HttpClient
    const apiUrl = trimSlash(options.apiUrl ?? defaultApiUrl)
    const keyName = options.keyName ?? tokenEnvVar
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(60))
    const apiKey = options.apiKey
    const client = base.pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          apiKey === undefined ? identity : HttpClientRequest.bearerToken(apiKey),
          HttpClientRequest.acceptJson
        )
      ),
      options.transformClient ?? identity
    )
    const urlOf = (pathOrUrl: string) => isAbsolute(pathOrUrl) ? pathOrUrl : `${apiUrl}${pathOrUrl}`
    const site = (model: string | undefined): ProviderHttp.CallSite => ({ provider: providerId, model, keyName })

    const noKey = (model: string | undefined) =>
      new ImageError.AuthenticationError({
        provider: providerId,
        ...(model === undefined ? {} : { model }),
        keyName,
        detail: `no API token configured (set ${keyName})`
      })

    /** Sends a request and decodes a 2xx body; maps every other outcome to an `ImageError`. */
    const send = <A, I>(
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>,
      model: string | undefined,
      requestTimeout: Duration.Duration = timeout
    ): Effect.Effect<A, ImageError.ImageError> =>
      apiKey === undefined ? Effect.fail(noKey(model)) : client.execute(request).pipe(
        Effect.flatMap((
          response
        ): Effect.Effect<A, ImageError.ImageError | HttpClientError.HttpClientError | ParseResult.ParseError> =>
          response.status >= 200 && response.status < 300
            ? HttpClientResponse.schemaBodyJson(schema)(response)
            : failure(response, model)
        ),
        Effect.timeout(requestTimeout),
        ProviderHttp.mapErrors(site(model), Duration.toMillis(requestTimeout))
      )

    const failure = (
      response: HttpClientResponse.HttpClientResponse,
      model: string | undefined
    ): Effect.Effect<never, ImageError.ImageError> =>
      Effect.gen(function*() {
        const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
        const now = yield* Clock.currentTimeMillis
        return yield* Effect.fail(
          refine422(ProviderHttp.statusError(site(model), response.status, response.headers, body, now), body)
        )
      })

    const createPrediction = (request: CreatePrediction, model?: string) =>
      Effect.suspend(() => {
        const ref = parseModelRef(request.model)
        if (Option.isNone(ref)) {
          return Effect.fail(
            new ImageError.InvalidRequest({
              provider: providerId,
              model: request.model,
              field: "model",
              detail: "must be owner/name, owner/name:version, a 64-character version id or deployments/owner/name"
            })
          )
        }
        const body: Record<string, unknown> = { input: request.input }
        if (request.webhook !== undefined) body.webhook = request.webhook
        if (request.webhookEventsFilter !== undefined) body.webhook_events_filter = request.webhookEventsFilter
        let path: string
        switch (ref.value._tag) {
          case "Official":
            path = `/models/${ref.value.owner}/${ref.value.name}/predictions`
            break
          case "Deployment":
            path = `/deployments/${ref.value.owner}/${ref.value.name}/predictions`
            break
          case "Version":
            path = "/predictions"
            body.version = ref.value.version
            break
        }
        const wait = request.wait === undefined ? undefined : Math.min(60, Math.max(1, Math.ceil(request.wait)))
        const cancelAfter = request.cancelAfter === undefined
          ? undefined
          : `${Math.max(5, Math.ceil(Duration.toSeconds(Duration.decode(request.cancelAfter))))}s`
        const http = HttpClientRequest.post(urlOf(path)).pipe(
          HttpClientRequest.bodyUnsafeJson(body),
          wait === undefined ? identity : HttpClientRequest.setHeader("prefer", `wait=${wait}`),
          cancelAfter === undefined ? identity : HttpClientRequest.setHeader("cancel-after", cancelAfter)
        )
        const holdTimeout = wait === undefined ? timeout : Duration.seconds(wait + 15)
        return send(http, Prediction, model ?? request.model, Duration.max(timeout, holdTimeout))
      }).pipe(Effect.withSpan("replicate.createPrediction", { attributes: { "replicate.model": request.model } }))

    const byIdOrUrl = (urlOrId: string, suffix: string) =>
      isAbsolute(urlOrId) ? urlOrId : `${apiUrl}/predictions/${encodeURIComponent(urlOrId)}${suffix}`

    const getPrediction = (urlOrId: string, model?: string) =>
      send(HttpClientRequest.get(byIdOrUrl(urlOrId, "")), Prediction, model)

    const cancelPrediction = (urlOrId: string, model?: string) =>
      send(HttpClientRequest.post(byIdOrUrl(urlOrId, "/cancel")), Prediction, model)

    const uploadFile: Service["uploadFile"] = (file, model) =>
      Effect.suspend(() => {
        const filename = file.filename ?? `input.${file.mediaType.split("/")[1]?.split("+")[0] ?? "bin"}`
        return ProviderHttp.multipartBody([
          { name: "content", fileName: filename, mediaType: file.mediaType, data: file.data },
          { name: "type", value: file.mediaType },
          { name: "filename", value: filename },
          {
            name: "metadata",
            fileName: "metadata.json",
            mediaType: "application/json",
            data: new TextEncoder().encode(JSON.stringify(file.metadata ?? {}))
          }
        ]).pipe(
          Effect.flatMap((body) =>
            send(HttpClientRequest.post(urlOf("/files")).pipe(HttpClientRequest.setBody(body)), FileObject, model)
          )
        )
      })

    return ReplicateClient.of({
      apiUrl,
      keyName,
      createPrediction,
      getPrediction,
      cancelPrediction,
      uploadFile,
      downloadClient: base
    })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<ReplicateClient, never, HttpClient.HttpClient> =>
  Layer.effect(ReplicateClient, make(options))

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions extends Omit<Options, "apiKey" | "apiUrl"> {
  /** Default: `Config.redacted("REPLICATE_API_TOKEN")`, optional (a missing token fails calls, not the layer). */
  readonly apiKey?: Config.Config<Option.Option<Redacted.Redacted>> | undefined
  /** Default: `Config.string("REPLICATE_BASE_URL")` with `https://api.replicate.com/v1`. */
  readonly apiUrl?: Config.Config<string> | undefined
}

/**
 * The client's settings from configuration: `REPLICATE_API_TOKEN`, `REPLICATE_BASE_URL`.
 *
 * @since 0.1.0
 * @category Configuration
 */
export const config = (
  options: ConfigOptions = {}
): Config.Config<Options> =>
  Config.all({
    apiKey: options.apiKey ?? Config.option(Config.redacted(tokenEnvVar)),
    apiUrl: options.apiUrl ?? Config.string(baseUrlEnvVar).pipe(Config.withDefault(defaultApiUrl))
  }).pipe(
    Config.map(({ apiKey, apiUrl }): Options => ({
      ...options,
      apiKey: Option.getOrUndefined(apiKey),
      apiUrl
    }))
  )

/**
 * The client from configuration (`REPLICATE_API_TOKEN`, `REPLICATE_BASE_URL`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<ReplicateClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(ReplicateClient, Effect.flatMap(config(options), make))

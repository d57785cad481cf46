/**
 * A small client for the Higgsfield platform API (v2): submit to `POST /{model_id}` (optionally with
 * `?hf_webhook=`), read `GET /requests/{id}/status`, cancel with `POST /requests/{id}/cancel` (queued
 * requests only), and upload input images through `POST /files/generate-upload-url`. Authenticates with
 * `Authorization: Key <id>:<secret>`.
 *
 * No retry happens here: the router retries refused submissions, the polling engine retries status checks.
 *
 * @since 0.1.0
 */
import * as HttpBody from "@effect/platform/HttpBody"
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
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/**
 * The provider id.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "higgsfield"

/**
 * The default base URL (docs and the official Python client; the JS SDK defaults to
 * `https://api.higgsfield.ai`).
 *
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "https://platform.higgsfield.ai"

/**
 * @since 0.1.0
 * @category Constants
 */
export const apiKeyEnv = "HIGGSFIELD_API_KEY"

/**
 * @since 0.1.0
 * @category Constants
 */
export const apiSecretEnv = "HIGGSFIELD_API_SECRET"

/**
 * @since 0.1.0
 * @category Constants
 */
export const apiUrlEnv = "HIGGSFIELD_BASE_URL"

const keyName = `${apiKeyEnv} / ${apiSecretEnv}`

/**
 * The v2 request envelope: the answer of submit, status and (as webhook body) completion.
 *
 * @since 0.1.0
 * @category Schemas
 */
export class RequestStatus extends Schema.Class<RequestStatus>("@image-gen/higgsfield/RequestStatus")({
  status: Schema.String,
  request_id: Schema.String,
  status_url: Schema.optional(Schema.String),
  cancel_url: Schema.optional(Schema.String),
  images: Schema.optional(Schema.NullOr(Schema.Array(Schema.Struct({ url: Schema.String })))),
  video: Schema.optional(Schema.NullOr(Schema.Struct({ url: Schema.String }))),
  error: Schema.optional(Schema.NullOr(Schema.String))
}) {}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly apiUrl: string
  /** `POST /{model}`. The paid step. */
  readonly submit: (
    model: string,
    body: Record<string, unknown>,
    webhookUrl?: string
  ) => Effect.Effect<RequestStatus, ImageError.ImageError>
  /** `GET {status_url}` (as returned, else `/requests/{id}/status`). */
  readonly status: (request: RequestStatus, model?: string) => Effect.Effect<RequestStatus, ImageError.ImageError>
  /** `POST {cancel_url}`: `true` when accepted (202), `false` when the request already started (400). */
  readonly cancel: (request: RequestStatus, model?: string) => Effect.Effect<boolean, ImageError.ImageError>
  /** Uploads bytes and returns their public URL. */
  readonly upload: (bytes: Uint8Array, contentType: string) => Effect.Effect<string, ImageError.ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class HiggsfieldClient
  extends Context.Tag("@image-gen/higgsfield/HiggsfieldClient")<HiggsfieldClient, Service>()
{}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly apiKey: Redacted.Redacted
  readonly apiSecret: Redacted.Redacted
  /** Default `https://platform.higgsfield.ai`. */
  readonly apiUrl?: string | undefined
  /** Per-request timeout. Default 60 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

const DetailItem = Schema.Struct({
  loc: Schema.optional(Schema.Array(Schema.Union(Schema.String, Schema.Number))),
  msg: Schema.String
})
const ErrorBody = Schema.Struct({ detail: Schema.Union(Schema.String, Schema.Array(DetailItem)) })

const failure = (
  response: HttpClientResponse.HttpClientResponse,
  model: string | undefined
): Effect.Effect<ImageError.ImageError> =>
  Effect.gen(function*() {
    const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const now = yield* Clock.currentTimeMillis
    const site = { provider: providerId, ...(model === undefined ? {} : { model }) }
    if (response.status === 400 || response.status === 422) {
      const decoded = Schema.decodeUnknownOption(Schema.parseJson(ErrorBody))(body)
      if (decoded._tag === "Some") {
        const detail = decoded.value.detail
        if (typeof detail === "string") {
          return new ImageError.InvalidRequest({ ...site, status: response.status, detail })
        }
        const first = detail[0]
        if (first !== undefined) {
          const field = (first.loc ?? []).filter((p) => p !== "body").map(String).join(".")
          return new ImageError.InvalidRequest({
            ...site,
            status: response.status,
            ...(field === "" ? {} : { field }),
            detail: first.msg
          })
        }
      }
    }
    if (response.status === 403) {
      // Higgsfield answers 403 when the account has too few credits (the official SDK maps every 403 so).
      return new ImageError.InvalidRequest({
        ...site,
        status: 403,
        detail: `not enough credits (${ProviderHttp.errorDetail(body) || "HTTP 403"}); top up at higgsfield.ai`
      })
    }
    return ProviderHttp.statusError({ ...site, keyName }, response.status, response.headers, body, now)
  })

/**
 * Builds the client.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const apiUrl = (options.apiUrl ?? defaultApiUrl).replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(60))
    const authorization = Redacted.make(
      `Key ${Redacted.value(options.apiKey)}:${Redacted.value(options.apiSecret)}`
    )
    const raw = yield* HttpClient.HttpClient
    const client = raw.pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.setHeader("authorization", Redacted.value(authorization)),
          HttpClientRequest.acceptJson
        )
      ),
      options.transformClient ?? identity
    )
    const run = <A>(
      effect: Effect.Effect<
        A,
        ImageError.ImageError | HttpClientError.HttpClientError | ParseResult.ParseError,
        Scope.Scope
      >,
      model: string | undefined
    ): Effect.Effect<A, ImageError.ImageError> =>
      Effect.scoped(effect).pipe(
        ProviderHttp.timeoutAfter({ provider: providerId, model }, timeout),
        ProviderHttp.mapErrors({ provider: providerId, model, keyName }, Duration.toMillis(timeout))
      )
    const json = <A, I>(
      http: HttpClient.HttpClient,
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>,
      model: string | undefined
    ) =>
      run(
        Effect.gen(function*() {
          const response = yield* http.execute(request)
          if (response.status < 200 || response.status >= 300) return yield* Effect.flip(failure(response, model))
          return yield* HttpClientResponse.schemaBodyJson(schema)(response)
        }),
        model
      )
    const absolute = (url: string | undefined, fallback: string) =>
      url === undefined || url === "" ? `${apiUrl}${fallback}` : /^https?:\/\//.test(url) ? url : `${apiUrl}${url}`

    const submit: Service["submit"] = (model, body, webhookUrl) =>
      json(
        client,
        HttpClientRequest.post(`${apiUrl}/${model.replace(/^\/+/, "")}`).pipe(
          webhookUrl === undefined ? identity : HttpClientRequest.setUrlParam("hf_webhook", webhookUrl),
          HttpClientRequest.setBody(HttpBody.unsafeJson(body))
        ),
        RequestStatus,
        model
      ).pipe(Effect.withSpan("HiggsfieldClient.submit", { attributes: { "higgsfield.model": model } }))

    const status: Service["status"] = (request, model) =>
      json(
        client,
        HttpClientRequest.get(
          absolute(request.status_url, `/requests/${encodeURIComponent(request.request_id)}/status`)
        ),
        RequestStatus,
        model
      )

    const cancel: Service["cancel"] = (request, model) =>
      run(
        Effect.gen(function*() {
          const response = yield* client.execute(
            HttpClientRequest.post(
              absolute(request.cancel_url, `/requests/${encodeURIComponent(request.request_id)}/cancel`)
            )
          )
          if (response.status >= 200 && response.status < 300) return true
          if (response.status === 400) return false
          return yield* Effect.flip(failure(response, model))
        }),
        model
      )

    const upload: Service["upload"] = (bytes, contentType) =>
      Effect.gen(function*() {
        const target = yield* json(
          client,
          HttpClientRequest.post(`${apiUrl}/files/generate-upload-url`).pipe(
            HttpClientRequest.setBody(HttpBody.unsafeJson({ content_type: contentType }))
          ),
          Schema.Struct({ upload_url: Schema.String, public_url: Schema.String }),
          undefined
        )
        // The upload URL is pre-signed: no credentials go to it.
        yield* run(
          Effect.gen(function*() {
            const response = yield* raw.execute(
              HttpClientRequest.put(target.upload_url).pipe(
                HttpClientRequest.setBody(HttpBody.uint8Array(bytes, contentType))
              )
            )
            if (response.status < 200 || response.status >= 300) return yield* Effect.flip(failure(response, undefined))
          }),
          undefined
        )
        return target.public_url
      })

    return HiggsfieldClient.of({ apiUrl, submit, status, cancel, upload })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<HiggsfieldClient, never, HttpClient.HttpClient> =>
  Layer.effect(HiggsfieldClient, make(options))

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions {
  /** Default: `Config.redacted("HIGGSFIELD_API_KEY")`. */
  readonly apiKey?: Config.Config<Redacted.Redacted> | undefined
  /** Default: `Config.redacted("HIGGSFIELD_API_SECRET")`. */
  readonly apiSecret?: Config.Config<Redacted.Redacted> | undefined
  /** Default: `HIGGSFIELD_BASE_URL`, else `https://platform.higgsfield.ai`. */
  readonly apiUrl?: Config.Config<string> | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * The client configured from the environment: `HIGGSFIELD_API_KEY`, `HIGGSFIELD_API_SECRET` (required)
 * and `HIGGSFIELD_BASE_URL`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<HiggsfieldClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    HiggsfieldClient,
    Effect.flatMap(
      Config.all({
        apiKey: options.apiKey ?? Config.redacted(apiKeyEnv),
        apiSecret: options.apiSecret ?? Config.redacted(apiSecretEnv),
        apiUrl: options.apiUrl ?? Config.string(apiUrlEnv).pipe(Config.withDefault(defaultApiUrl))
      }),
      ({ apiKey, apiSecret, apiUrl }) =>
        make({ apiKey, apiSecret, apiUrl, timeout: options.timeout, transformClient: options.transformClient })
    )
  )

/**
 * A small client for the Black Forest Labs API (`https://api.bfl.ai`): submit a generation to
 * `POST /v1/{model}`, poll the `polling_url` the API returned (followed as given: it points at the cluster
 * that owns the task), read the credit balance. Authenticates with the `x-key` header, which is added to
 * the redacted header names so it never reaches a span or a log.
 *
 * No retry happens here: the router retries submissions that were refused, and the polling engine retries
 * status checks on their own.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
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
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/**
 * The provider id.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "bfl"

/**
 * The default base URL (global host with multi-cluster failover).
 *
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "https://api.bfl.ai"

/**
 * The environment variable holding the key.
 *
 * @since 0.1.0
 * @category Constants
 */
export const apiKeyEnv = "BFL_API_KEY"

/**
 * The environment variable overriding the base URL.
 *
 * @since 0.1.0
 * @category Constants
 */
export const apiUrlEnv = "BFL_BASE_URL"

/**
 * The secret header, added to `Headers.currentRedactedNames`.
 *
 * @since 0.1.0
 * @category Constants
 */
export const keyHeader = "x-key"

/**
 * `AsyncResponse` of BFL's OpenAPI (also covers `AsyncWebhookResponse`, which has `status` and
 * `webhook_url` but may lack `polling_url`).
 *
 * @since 0.1.0
 * @category Schemas
 */
export class AsyncResponse extends Schema.Class<AsyncResponse>("@image-gen/bfl/AsyncResponse")({
  id: Schema.String,
  polling_url: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  webhook_url: Schema.optional(Schema.String),
  /** Credits (1 credit = $0.01). */
  cost: Schema.optional(Schema.NullOr(Schema.Number)),
  input_mp: Schema.optional(Schema.NullOr(Schema.Number)),
  output_mp: Schema.optional(Schema.NullOr(Schema.Number))
}) {}

/**
 * `ResultResponse` of BFL's OpenAPI. `status` is kept a plain string: the official enum has six values,
 * but guides and clients also see `Failed` and progress words.
 *
 * @since 0.1.0
 * @category Schemas
 */
export class ResultResponse extends Schema.Class<ResultResponse>("@image-gen/bfl/ResultResponse")({
  id: Schema.String,
  status: Schema.String,
  result: Schema.optional(Schema.Unknown),
  progress: Schema.optional(Schema.NullOr(Schema.Number)),
  details: Schema.optional(Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown }))),
  preview: Schema.optional(Schema.NullOr(Schema.Unknown))
}) {}

/**
 * `result` of a `Ready` status: `sample` is a signed URL valid for about 10 minutes.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ReadyResult = Schema.Struct({
  sample: Schema.String,
  prompt: Schema.optional(Schema.NullOr(Schema.String)),
  seed: Schema.optional(Schema.NullOr(Schema.Number)),
  start_time: Schema.optional(Schema.NullOr(Schema.Number)),
  end_time: Schema.optional(Schema.NullOr(Schema.Number)),
  duration: Schema.optional(Schema.NullOr(Schema.Number))
})

/**
 * @since 0.1.0
 * @category Models
 */
export type ReadyResult = typeof ReadyResult.Type

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The base URL in use, without a trailing slash. */
  readonly apiUrl: string
  /** `POST /v1/{model}`. The paid step. */
  readonly submit: (model: string, body: Record<string, unknown>) => Effect.Effect<AsyncResponse, ImageError.ImageError>
  /** The URL to poll for a submission: its `polling_url` as given, else `{apiUrl}/v1/get_result?id=`. */
  readonly pollingUrl: (response: AsyncResponse) => string
  /** `GET {polling_url}`. A 404 answer is returned as `Task not found`, like the API's own status. */
  readonly getResult: (pollingUrl: string, model?: string) => Effect.Effect<ResultResponse, ImageError.ImageError>
  /** `GET /v1/credits`. */
  readonly credits: Effect.Effect<number, ImageError.ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class BflClient extends Context.Tag("@image-gen/bfl/BflClient")<BflClient, Service>() {}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly apiKey: Redacted.Redacted
  /** Default `https://api.bfl.ai`. Regional hosts: `https://api.eu.bfl.ai`, `https://api.us.bfl.ai`. */
  readonly apiUrl?: string | undefined
  /** Per-request timeout. Default 60 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Applied to the HTTP client (proxies, extra headers, instrumentation). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

const FastApiDetail = Schema.Struct({
  detail: Schema.Array(Schema.Struct({
    loc: Schema.optional(Schema.Array(Schema.Union(Schema.String, Schema.Number))),
    msg: Schema.String
  }))
})

/** The typed error of a non-2xx answer; 422 FastAPI bodies name the field, 410 is a retired model. */
const failure = (
  response: HttpClientResponse.HttpClientResponse,
  model: string | undefined
): Effect.Effect<ImageError.ImageError> =>
  Effect.gen(function*() {
    const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const now = yield* Clock.currentTimeMillis
    const site = { provider: providerId, ...(model === undefined ? {} : { model }) }
    if (response.status === 422 || response.status === 400) {
      const decoded = Schema.decodeUnknownOption(Schema.parseJson(FastApiDetail))(body)
      if (decoded._tag === "Some" && decoded.value.detail.length > 0) {
        const first = decoded.value.detail[0]!
        const path = (first.loc ?? []).filter((p) => p !== "body").map(String).join(".")
        return new ImageError.InvalidRequest({
          ...site,
          status: response.status,
          ...(path === "" ? {} : { field: path }),
          detail: first.msg
        })
      }
    }
    if (response.status === 402) {
      return new ImageError.InvalidRequest({
        ...site,
        status: 402,
        detail: `insufficient credits (${ProviderHttp.errorDetail(body) || "HTTP 402"}); top up at dashboard.bfl.ai`
      })
    }
    if (response.status === 410 && model !== undefined) {
      return new ImageError.ModelRetired({ provider: providerId, model })
    }
    return ProviderHttp.statusError({ ...site, keyName: apiKeyEnv }, response.status, response.headers, body, now)
  })

/**
 * Builds the client.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.locallyScopedWith(Headers.currentRedactedNames, Arr.append(keyHeader))
    const apiUrl = (options.apiUrl ?? defaultApiUrl).replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(60))
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.setHeader(keyHeader, Redacted.value(options.apiKey)),
          HttpClientRequest.acceptJson
        )
      ),
      options.transformClient ?? identity
    )
    /** Runs one request: non-2xx answers become typed errors; the key header stays redacted in spans. */
    const execute = <A, I>(
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>,
      model: string | undefined,
      onStatus?: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A> | undefined
    ): Effect.Effect<A, ImageError.ImageError> =>
      Effect.scoped(
        Effect.gen(function*() {
          const response = yield* client.execute(request)
          const special = onStatus?.(response)
          if (special !== undefined) return yield* special
          if (response.status < 200 || response.status >= 300) return yield* Effect.flip(failure(response, model))
          return yield* HttpClientResponse.schemaBodyJson(schema)(response)
        })
      ).pipe(
        ProviderHttp.timeoutAfter({ provider: providerId, model }, timeout),
        ProviderHttp.mapErrors({ provider: providerId, model, keyName: apiKeyEnv }, Duration.toMillis(timeout)),
        Effect.locallyWith(
          Headers.currentRedactedNames,
          (names) => names.includes(keyHeader) ? names : Arr.append(names, keyHeader)
        )
      )

    const submit = (model: string, body: Record<string, unknown>) =>
      execute(
        HttpClientRequest.post(`${apiUrl}/v1/${model}`).pipe(HttpClientRequest.setBody(HttpBody.unsafeJson(body))),
        AsyncResponse,
        model
      ).pipe(Effect.withSpan("BflClient.submit", { attributes: { "bfl.model": model } }))

    // The key goes with every poll, so a polling URL is followed only on BFL's own hosts or the configured
    // base URL's origin (a proxy or a fake): a tampered answer must not send the key elsewhere.
    const trustedPollingUrl = (pollingUrl: string): boolean => {
      const url = URL.canParse(pollingUrl) ? new URL(pollingUrl) : undefined
      if (url === undefined) return false
      const base = URL.canParse(apiUrl) ? new URL(apiUrl) : undefined
      return (base !== undefined && url.origin === base.origin) ||
        (url.protocol === "https:" && (url.hostname === "bfl.ai" || url.hostname.endsWith(".bfl.ai")))
    }

    const getResult = (pollingUrl: string, model?: string) =>
      trustedPollingUrl(pollingUrl) ?
        execute(
          HttpClientRequest.get(pollingUrl),
          ResultResponse,
          model,
          (response) =>
            response.status === 404
              ? Effect.succeed(
                new ResultResponse({ id: new URL(pollingUrl).searchParams.get("id") ?? "", status: "Task not found" })
              )
              : undefined
        ) :
        Effect.fail(
          new ImageError.MalformedResponse({
            provider: "bfl",
            ...(model === undefined ? {} : { model }),
            detail: `polling_url on an unexpected host (${ImageError.redactUrl(pollingUrl)}); not sending the key there`
          })
        )

    const credits = execute(
      HttpClientRequest.get(`${apiUrl}/v1/credits`),
      Schema.Struct({ credits: Schema.Number }),
      undefined
    ).pipe(Effect.map((r) => r.credits))

    return BflClient.of({
      apiUrl,
      submit,
      pollingUrl: (response) => response.polling_url ?? `${apiUrl}/v1/get_result?id=${encodeURIComponent(response.id)}`,
      getResult,
      credits
    })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<BflClient, never, HttpClient.HttpClient> =>
  Layer.scoped(BflClient, make(options))

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions {
  /** Default: `Config.redacted("BFL_API_KEY")`. */
  readonly apiKey?: Config.Config<Redacted.Redacted> | undefined
  /** Default: `BFL_BASE_URL`, else `https://api.bfl.ai`. */
  readonly apiUrl?: Config.Config<string> | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * The client configured from the environment: `BFL_API_KEY` (required) and `BFL_BASE_URL`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<BflClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(
    BflClient,
    Effect.flatMap(
      Config.all({
        apiKey: options.apiKey ?? Config.redacted(apiKeyEnv),
        apiUrl: options.apiUrl ?? Config.string(apiUrlEnv).pipe(Config.withDefault(defaultApiUrl))
      }),
      ({ apiKey, apiUrl }) =>
        make({ apiKey, apiUrl, timeout: options.timeout, transformClient: options.transformClient })
    )
  )

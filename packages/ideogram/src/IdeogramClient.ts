/**
 * The HTTP client of the Ideogram API (v3 endpoints): multipart POSTs with the `Api-Key` header, the
 * `{ created, data: [{ prompt, resolution, is_image_safe, seed, url, style_type }] }` answer decoded with
 * `effect/Schema`, and error answers (`{ error, reject_reason? }`) mapped to image-gen's typed errors.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
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
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "ideogram"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "https://api.ideogram.ai"

/**
 * @since 0.1.0
 * @category Constants
 */
export const apiKeyEnv = "IDEOGRAM_API_KEY"

/**
 * @since 0.1.0
 * @category Constants
 */
export const baseUrlEnv = "IDEOGRAM_BASE_URL"

/**
 * The header that carries the key. Added to `Headers.currentRedactedNames` so it never reaches a span.
 *
 * @since 0.1.0
 * @category Constants
 */
export const apiKeyHeader = "api-key"

/**
 * One generated image. When the output failed Ideogram's safety check, `is_image_safe` is false and
 * there is no URL (the image is still billed).
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImageObject = Schema.Struct({
  prompt: Schema.optional(Schema.String),
  resolution: Schema.optional(Schema.String),
  is_image_safe: Schema.Boolean,
  seed: Schema.optional(Schema.Number),
  url: Schema.optional(Schema.NullOr(Schema.String)),
  style_type: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * The answer of the v3 generate, edit and remix endpoints.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const GenerateResponse = Schema.Struct({
  /** ISO-8601. */
  created: Schema.String,
  data: Schema.Array(ImageObject)
})

/**
 * @since 0.1.0
 * @category Models
 */
export type GenerateResponse = typeof GenerateResponse.Type

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly apiKey: Redacted.Redacted
  /** Default `https://api.ideogram.ai` (env `IDEOGRAM_BASE_URL` with `layerConfig`). */
  readonly apiUrl?: string | undefined
  /** Per-request timeout. Default 120 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Named in authentication errors. Default `IDEOGRAM_API_KEY`. */
  readonly keyName?: string | undefined
  /** Adjusts the underlying client. No retry here: the router retries. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Result {
  readonly response: GenerateResponse
  readonly requestId: string | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly apiUrl: string
  /** POSTs a multipart form to a path under the base URL (`/v1/ideogram-v3/generate`, `/edit`, `/remix`). */
  readonly post: (path: string, form: FormData, model?: string) => Effect.Effect<Result, ImageError.ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class IdeogramClient extends Context.Tag("@image-gen/ideogram/IdeogramClient")<IdeogramClient, Service>() {}

/**
 * Maps an Ideogram error answer to an `ImageError`: 422 is a failed safety check (`ContentBlocked`), 429
 * is the in-flight limit (`RateLimited`), the rest goes through core's uniform status mapping.
 *
 * @since 0.1.0
 * @category Errors
 */
export const errorFromBody = (
  site: ProviderHttp.CallSite,
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  body: string,
  nowMillis: number
): ImageError.ImageError => {
  let rejectReason: string | undefined
  try {
    const json: unknown = JSON.parse(body)
    if (
      typeof json === "object" && json !== null && "reject_reason" in json && typeof json.reject_reason === "string"
    ) {
      rejectReason = json.reject_reason
    }
  } catch {
    rejectReason = undefined
  }
  const detail = ProviderHttp.errorDetail(body)
  if (status === 422) {
    return new ImageError.ContentBlocked({
      provider: site.provider,
      ...(site.model === undefined ? {} : { model: site.model }),
      ...(site.requestId === undefined ? {} : { requestId: site.requestId }),
      reason: detail || "the prompt or an input image failed the safety check"
    })
  }
  const error = ProviderHttp.statusError(site, status, headers, body, nowMillis)
  if (rejectReason !== undefined && error._tag === "InvalidRequest") {
    return new ImageError.InvalidRequest({
      provider: site.provider,
      ...(site.model === undefined ? {} : { model: site.model }),
      ...(site.requestId === undefined ? {} : { requestId: site.requestId }),
      status,
      detail: `${rejectReason}: ${error.detail}`
    })
  }
  if (rejectReason !== undefined && error._tag === "RateLimited") {
    return new ImageError.RateLimited({
      provider: site.provider,
      ...(site.model === undefined ? {} : { model: site.model }),
      ...(error.retryAfterMillis === undefined ? {} : { retryAfterMillis: error.retryAfterMillis }),
      detail: `${rejectReason}${error.detail === undefined ? "" : `: ${error.detail}`}`
    })
  }
  return error
}

/**
 * Builds the client. Requires only `HttpClient.HttpClient`; the scope keeps `api-key` in the redacted
 * header names for the layer's lifetime.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.locallyScopedWith(Headers.currentRedactedNames, Arr.append(apiKeyHeader))
    const apiUrl = (options.apiUrl ?? defaultApiUrl).replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(120))
    const keyName = options.keyName ?? apiKeyEnv
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(apiUrl),
          HttpClientRequest.setHeader(apiKeyHeader, Redacted.value(options.apiKey)),
          HttpClientRequest.acceptJson
        )
      ),
      options.transformClient ?? identity
    )

    const post: Service["post"] = (path, form, model) => {
      const site: ProviderHttp.CallSite = { provider: providerId, model, keyName }
      return ProviderHttp.formDataBody(form).pipe(
        Effect.flatMap((body) => client.execute(HttpClientRequest.post(path).pipe(HttpClientRequest.setBody(body)))),
        Effect.flatMap((response) =>
          Effect.gen(function*() {
            const requestId = response.headers["x-request-id"]
            if (response.status < 200 || response.status >= 300) {
              const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
              const now = yield* Clock.currentTimeMillis
              return yield* Effect.fail(
                errorFromBody({ ...site, requestId }, response.status, response.headers, text, now)
              )
            }
            const decoded = yield* HttpClientResponse.schemaBodyJson(GenerateResponse)(response)
            return { response: decoded, requestId } satisfies Result
          })
        ),
        Effect.scoped,
        ProviderHttp.timeoutAfter({ provider: providerId, model }, timeout),
        ProviderHttp.mapErrors(site, Duration.toMillis(timeout)),
        Effect.withSpan("IdeogramClient.post", { captureStackTrace: false, attributes: { "url.path": path } })
      )
    }

    return IdeogramClient.of({ apiUrl, post })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<IdeogramClient, never, HttpClient.HttpClient> =>
  Layer.scoped(IdeogramClient, make(options))

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions extends Omit<Options, "apiKey" | "apiUrl"> {
  /** Default `Config.redacted("IDEOGRAM_API_KEY")`. */
  readonly apiKey?: Config.Config<Redacted.Redacted> | undefined
  /** Default `IDEOGRAM_BASE_URL`, else `https://api.ideogram.ai`. */
  readonly apiUrl?: Config.Config<string> | undefined
}

/**
 * The key and base URL read through `Config` (env `IDEOGRAM_API_KEY`, `IDEOGRAM_BASE_URL`).
 *
 * @since 0.1.0
 * @category Configuration
 */
export const config = (
  options: ConfigOptions = {}
): Config.Config<{ readonly apiKey: Redacted.Redacted; readonly apiUrl: string }> =>
  Config.all({
    apiKey: options.apiKey ?? Config.redacted(apiKeyEnv),
    apiUrl: options.apiUrl ?? Config.string(baseUrlEnv).pipe(Config.withDefault(defaultApiUrl))
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<IdeogramClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(
    IdeogramClient,
    Effect.flatMap(config(options), ({ apiKey, apiUrl }) => make({ ...options, apiKey, apiUrl }))
  )

/**
 * The HTTP client of the Recraft API (`https://external.api.recraft.ai/v1`): JSON generations, multipart
 * image-to-image and inpainting, the `{ created, credits, data: [{ image_id, url | b64_json }] }` answer
 * decoded with `effect/Schema`, and error answers mapped to image-gen's typed errors.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
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
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "recraft"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "https://external.api.recraft.ai/v1"

/**
 * @since 0.1.0
 * @category Constants
 */
export const apiKeyEnv = "RECRAFT_API_TOKEN"

/**
 * @since 0.1.0
 * @category Constants
 */
export const baseUrlEnv = "RECRAFT_BASE_URL"

/**
 * One image of an answer.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImageData = Schema.Struct({
  image_id: Schema.String,
  url: Schema.optional(Schema.String),
  b64_json: Schema.optional(Schema.String),
  revised_prompt: Schema.optional(Schema.NullOr(Schema.String)),
  features: Schema.optional(Schema.Unknown)
})

/**
 * The answer of `/images/generations`, `/images/imageToImage` and `/images/inpaint`.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ImagesResponse = Schema.Struct({
  created: Schema.Number,
  /** API units charged (1 USD = 1000 units). */
  credits: Schema.optional(Schema.Number),
  data: Schema.Array(ImageData)
})

/**
 * @since 0.1.0
 * @category Models
 */
export type ImagesResponse = typeof ImagesResponse.Type

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly apiKey: Redacted.Redacted
  /** Default `https://external.api.recraft.ai/v1` (env `RECRAFT_BASE_URL` with `layerConfig`). */
  readonly apiUrl?: string | undefined
  /** Per-request timeout. Default 120 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Named in authentication errors. Default `RECRAFT_API_TOKEN`. */
  readonly keyName?: string | undefined
  /** Adjusts the underlying client. No retry here: the router retries. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Result {
  readonly response: ImagesResponse
  readonly requestId: string | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly apiUrl: string
  /** `POST /images/generations` with a JSON body. */
  readonly generate: (body: Record<string, unknown>, model?: string) => Effect.Effect<Result, ImageError.ImageError>
  /** A multipart POST (`/images/imageToImage`, `/images/inpaint`). */
  readonly postForm: (
    path: string,
    form: FormData,
    model?: string
  ) => Effect.Effect<Result, ImageError.ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class RecraftClient extends Context.Tag("@image-gen/recraft/RecraftClient")<RecraftClient, Service>() {}

const moderation = /nsfw|moderation|safety|inappropriate|prohibited/i

/**
 * Maps a Recraft error answer (`{ code, message }`, UNCONFIRMED shape; other bodies fall back to their
 * text) to an `ImageError`.
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
  let code: string | undefined
  try {
    const json: unknown = JSON.parse(body)
    if (typeof json === "object" && json !== null && "code" in json && typeof json.code === "string") code = json.code
  } catch {
    code = undefined
  }
  const detail = ProviderHttp.errorDetail(body)
  if (status >= 400 && status < 500 && status !== 429 && moderation.test(`${code ?? ""} ${detail}`)) {
    return new ImageError.ContentBlocked({
      provider: site.provider,
      ...(site.model === undefined ? {} : { model: site.model }),
      ...(site.requestId === undefined ? {} : { requestId: site.requestId }),
      reason: detail || code || "rejected by Recraft's moderation"
    })
  }
  if (
    site.model !== undefined &&
    (status === 410 || (status >= 400 && status < 500 && /retired|deprecated/i.test(detail)))
  ) return new ImageError.ModelRetired({ provider: site.provider, model: site.model })
  const error = ProviderHttp.statusError(site, status, headers, body, nowMillis)
  if (error._tag === "InvalidRequest" && code !== undefined) {
    return new ImageError.InvalidRequest({
      provider: site.provider,
      ...(site.model === undefined ? {} : { model: site.model }),
      ...(site.requestId === undefined ? {} : { requestId: site.requestId }),
      status,
      detail: `${code}: ${error.detail}`
    })
  }
  return error
}

/**
 * Builds the client. Requires only `HttpClient.HttpClient`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const apiUrl = (options.apiUrl ?? defaultApiUrl).replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(120))
    const keyName = options.keyName ?? apiKeyEnv
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(apiUrl),
          HttpClientRequest.bearerToken(options.apiKey),
          HttpClientRequest.acceptJson
        )
      ),
      options.transformClient ?? identity
    )

    const send = (request: HttpClientRequest.HttpClientRequest, model: string | undefined) => {
      const site: ProviderHttp.CallSite = { provider: providerId, model, keyName }
      return client.execute(request).pipe(
        Effect.flatMap((response) =>
          Effect.gen(function*() {
            const requestId = response.headers["x-request-id"]
            if (response.status < 200 || response.status >= 300) {
              const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
              const now = yield* Clock.currentTimeMillis
              return yield* Effect.fail(
                errorFromBody({ ...site, requestId }, response.status, response.headers, body, now)
              )
            }
            const decoded = yield* HttpClientResponse.schemaBodyJson(ImagesResponse)(response)
            return { response: decoded, requestId } satisfies Result
          })
        ),
        Effect.scoped,
        ProviderHttp.timeoutAfter({ provider: providerId, model }, timeout),
        ProviderHttp.mapErrors(site, Duration.toMillis(timeout))
      )
    }

    const generate: Service["generate"] = (body, model) =>
      send(HttpClientRequest.post("/images/generations").pipe(HttpClientRequest.bodyUnsafeJson(body)), model).pipe(
        Effect.withSpan("RecraftClient.generate", { captureStackTrace: false })
      )

    const postForm: Service["postForm"] = (path, form, model) =>
      ProviderHttp.formDataBody(form).pipe(
        Effect.flatMap((body) => send(HttpClientRequest.post(path).pipe(HttpClientRequest.setBody(body)), model)),
        Effect.withSpan("RecraftClient.postForm", { captureStackTrace: false, attributes: { "url.path": path } })
      )

    return RecraftClient.of({ apiUrl, generate, postForm })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<RecraftClient, never, HttpClient.HttpClient> =>
  Layer.effect(RecraftClient, make(options))

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions extends Omit<Options, "apiKey" | "apiUrl"> {
  /** Default `Config.redacted("RECRAFT_API_TOKEN")`. */
  readonly apiKey?: Config.Config<Redacted.Redacted> | undefined
  /** Default `RECRAFT_BASE_URL`, else `https://external.api.recraft.ai/v1`. */
  readonly apiUrl?: Config.Config<string> | undefined
}

/**
 * The token and base URL read through `Config` (env `RECRAFT_API_TOKEN`, `RECRAFT_BASE_URL`).
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
): Layer.Layer<RecraftClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    RecraftClient,
    Effect.flatMap(config(options), ({ apiKey, apiUrl }) => make({ ...options, apiKey, apiUrl }))
  )

/**
 * The HTTP client of the Stability AI REST API (v2beta `stable-image`): multipart POSTs answered with the
 * image bytes (`accept: image/*`), the `finish-reason` and `seed` headers, and Stability's error envelope
 * `{ id, name, errors }` mapped to image-gen's typed errors.
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
import type * as Redacted from "effect/Redacted"

/**
 * The provider id used in model addresses (`stability:stable-image-core`).
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "stability"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "https://api.stability.ai"

/**
 * @since 0.1.0
 * @category Constants
 */
export const apiKeyEnv = "STABILITY_API_KEY"

/**
 * @since 0.1.0
 * @category Constants
 */
export const baseUrlEnv = "STABILITY_BASE_URL"

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly apiKey: Redacted.Redacted
  /** Default `https://api.stability.ai` (env `STABILITY_BASE_URL` with `layerConfig`). */
  readonly apiUrl?: string | undefined
  /** Per-request timeout. Default 120 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Sent as `stability-client-id` (optional). */
  readonly clientId?: string | undefined
  /** Named in authentication errors. Default `STABILITY_API_KEY`. */
  readonly keyName?: string | undefined
  /** Adjusts the underlying client (proxies, extra headers). No retry here: the router retries. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * A successful synchronous answer: the image bytes and what the headers said about them.
 *
 * @since 0.1.0
 * @category Models
 */
export interface StabilityImage {
  readonly bytes: Uint8Array
  readonly mediaType: string
  /** `SUCCESS` or `CONTENT_FILTERED` (the image was blurred by the safety filter, and billed). */
  readonly finishReason: string | undefined
  readonly seed: number | undefined
  readonly requestId: string | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly apiUrl: string
  /**
   * POSTs a multipart form to a path under the base URL (e.g. `/v2beta/stable-image/generate/core`) and
   * returns the image. Non-2xx answers become `ImageError`s; nothing is retried here.
   */
  readonly postImage: (
    path: string,
    form: FormData,
    options?: { readonly model?: string | undefined }
  ) => Effect.Effect<StabilityImage, ImageError.ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class StabilityClient extends Context.Tag("@image-gen/stability/StabilityClient")<StabilityClient, Service>() {}

const imageTypes = /^image\/(png|jpeg|webp)/

/**
 * Maps a Stability error answer to an `ImageError`: 403 `content_moderation` is a content block, a
 * 400/404/410 naming a retired model is `ModelRetired`, everything else goes through core's uniform
 * status mapping.
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
  const envelope = parseEnvelope(body)
  const requestId = envelope.id ?? headers["x-request-id"] ?? site.requestId
  const where = { ...site, ...(requestId === undefined ? {} : { requestId }) }
  const detail = envelope.errors.join("; ")
  if (envelope.name === "content_moderation") {
    return new ImageError.ContentBlocked({
      provider: site.provider,
      ...(site.model === undefined ? {} : { model: site.model }),
      ...(requestId === undefined ? {} : { requestId }),
      reason: detail || "request flagged by content moderation"
    })
  }
  if (site.model !== undefined && (status === 410 || (status < 500 && /retired|deprecated|no longer/i.test(detail)))) {
    return new ImageError.ModelRetired({ provider: site.provider, model: site.model })
  }
  const error = ProviderHttp.statusError(where, status, headers, body, nowMillis)
  if (error._tag === "InvalidRequest" && envelope.errors.length > 0) {
    const field = /^([a-z_]+):/.exec(envelope.errors[0]!)?.[1]
    return new ImageError.InvalidRequest({
      ...where,
      status,
      ...(field === undefined ? {} : { field }),
      detail: envelope.name === undefined ? detail : `${envelope.name}: ${detail}`
    })
  }
  return error
}

const parseEnvelope = (
  body: string
): { readonly id: string | undefined; readonly name: string | undefined; readonly errors: ReadonlyArray<string> } => {
  try {
    const json: unknown = JSON.parse(body)
    if (typeof json !== "object" || json === null) return { id: undefined, name: undefined, errors: [] }
    const o = json as Record<string, unknown>
    const errors = Array.isArray(o.errors)
      ? o.errors.filter((e): e is string => typeof e === "string")
      : typeof o.message === "string"
      ? [o.message]
      : []
    return {
      id: typeof o.id === "string" ? o.id : undefined,
      name: typeof o.name === "string" ? o.name : undefined,
      errors
    }
  } catch {
    return { id: undefined, name: undefined, errors: body.trim() === "" ? [] : [body.trim().slice(0, 300)] }
  }
}

const failWith = (site: ProviderHttp.CallSite, response: HttpClientResponse.HttpClientResponse) =>
  Effect.gen(function*() {
    const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const now = yield* Clock.currentTimeMillis
    return yield* Effect.fail(errorFromBody(site, response.status, response.headers, body, now))
  })

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
          options.clientId === undefined
            ? identity
            : HttpClientRequest.setHeader("stability-client-id", options.clientId)
        )
      ),
      options.transformClient ?? identity
    )

    const postImage: Service["postImage"] = (path, form, callOptions) => {
      const site: ProviderHttp.CallSite = { provider: providerId, model: callOptions?.model, keyName }
      return ProviderHttp.formDataBody(form).pipe(
        Effect.flatMap((body) =>
          client.execute(
            HttpClientRequest.post(path).pipe(
              HttpClientRequest.setHeader("accept", "image/*"),
              HttpClientRequest.setBody(body)
            )
          )
        ),
        Effect.flatMap((response) =>
          Effect.gen(function*() {
            if (response.status < 200 || response.status >= 300) return yield* failWith(site, response)
            const requestId = response.headers["x-request-id"]
            const mediaType = (response.headers["content-type"] ?? "").split(";")[0]!.trim()
            if (!imageTypes.test(mediaType)) {
              const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
              return yield* Effect.fail(
                new ImageError.MalformedResponse({
                  provider: providerId,
                  ...(site.model === undefined ? {} : { model: site.model }),
                  ...(requestId === undefined ? {} : { requestId }),
                  detail: `expected image bytes, got ${mediaType || "no content type"}: ${text.slice(0, 120)}`
                })
              )
            }
            const bytes = new Uint8Array(yield* response.arrayBuffer)
            const seedHeader = response.headers["seed"]
            const seed = seedHeader === undefined || !/^\d+$/.test(seedHeader) ? undefined : Number(seedHeader)
            return {
              bytes,
              mediaType,
              finishReason: response.headers["finish-reason"],
              seed,
              requestId
            } satisfies StabilityImage
          })
        ),
        Effect.scoped,
        ProviderHttp.timeoutAfter({ provider: providerId, model: site.model }, timeout),
        ProviderHttp.mapErrors(site, Duration.toMillis(timeout)),
        Effect.withSpan("StabilityClient.postImage", { captureStackTrace: false, attributes: { "url.path": path } })
      )
    }

    return StabilityClient.of({ apiUrl, postImage })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<StabilityClient, never, HttpClient.HttpClient> =>
  Layer.effect(StabilityClient, make(options))

/**
 * Config for `layerConfig`: each field is a `Config`, read when the layer is built.
 *
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions extends Omit<Options, "apiKey" | "apiUrl"> {
  /** Default `Config.redacted("STABILITY_API_KEY")`. */
  readonly apiKey?: Config.Config<Redacted.Redacted> | undefined
  /** Default `STABILITY_BASE_URL`, else `https://api.stability.ai`. */
  readonly apiUrl?: Config.Config<string> | undefined
}

/**
 * The key and base URL read through `Config` (env `STABILITY_API_KEY`, `STABILITY_BASE_URL`).
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
): Layer.Layer<StabilityClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    StabilityClient,
    Effect.flatMap(config(options), ({ apiKey, apiUrl }) => make({ ...options, apiKey, apiUrl }))
  )

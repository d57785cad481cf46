/**
 * The HTTP client for Google's image endpoints: Gemini `generateContent` and Imagen `:predict`, on the
 * Gemini Developer API (AI Studio, API key) or on Vertex AI (API key, or OAuth2 access tokens from
 * Application Default Credentials). It builds URLs, authenticates, decodes answers and maps every error
 * answer to an `ImageError`. It never retries: the router does.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type { ImageError } from "@image-gen/core/ImageError"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as GoogleConfig from "./GoogleConfig.js"
import * as GoogleCredentials from "./GoogleCredentials.js"
import * as Errors from "./internal/errors.js"
import * as Wire from "./internal/wire.js"

/**
 * Where requests go and how they authenticate.
 *
 * - `GeminiApi`: AI Studio, `x-goog-api-key`.
 * - `VertexApiKey`: Vertex AI with an API key; with a project the regional project path, without one the
 *   express-mode path (`/publishers/google/models/...` on the global host).
 * - `VertexAdc`: Vertex AI with `Authorization: Bearer` tokens from a `TokenSource` (default:
 *   Application Default Credentials through `google-auth-library`).
 *
 * @since 0.1.0
 * @category Models
 */
export type Backend =
  | {
    readonly _tag: "GeminiApi"
    readonly apiKey: Redacted.Redacted<string>
    /** Default `https://generativelanguage.googleapis.com`. */
    readonly baseUrl?: string | undefined
    /** Named in authentication errors. Default `GOOGLE_GEMINI_API_KEY`. */
    readonly keyName?: string | undefined
  }
  | {
    readonly _tag: "VertexApiKey"
    readonly apiKey: Redacted.Redacted<string>
    readonly project?: string | undefined
    /** Default `us-central1`. */
    readonly location?: string | undefined
    /** Default `https://{location}-aiplatform.googleapis.com` (`{location}` is substituted). */
    readonly baseUrl?: string | undefined
    /** Default `GOOGLE_VERTEX_API_KEY`. */
    readonly keyName?: string | undefined
  }
  | {
    readonly _tag: "VertexAdc"
    readonly project: string
    readonly location?: string | undefined
    readonly baseUrl?: string | undefined
    /** Default: ADC through `google-auth-library` with `googleAuthOptions`. */
    readonly accessToken?: GoogleCredentials.TokenSource | undefined
    readonly googleAuthOptions?: GoogleCredentials.GoogleAuthOptions | undefined
    readonly keyName?: string | undefined
  }

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly backend: Backend
  /** The provider id named in errors. Default `google`. */
  readonly providerId?: string | undefined
  /** API version path segment. Default `v1beta` on the Gemini API, `v1` on Vertex AI. */
  readonly apiVersion?: string | undefined
  /** Per-request timeout. Default 180 seconds (Pro image models can think for a while). */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Models Vertex AI serves only in the `global` location, whatever `location` says. Default: the
   * Gemini 3 image models (`gemini-3*`), documented as global-only.
   */
  readonly globalOnly?: ((model: string) => boolean) | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * A decoded answer and the JSON it came from.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Answer<A> {
  readonly response: A
  readonly json: unknown
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly backend: Backend["_tag"]
  /** The host calls go to, for the `server.address` span attribute. */
  readonly serverAddress: string | undefined
  /** The env var or credential named in authentication errors. */
  readonly keyName: string
  /** `POST …/models/{model}:generateContent`. */
  readonly generateContent: (
    model: string,
    body: unknown
  ) => Effect.Effect<Answer<Wire.GenerateContentResponse>, ImageError>
  /** `POST …/models/{model}:predict` (Imagen). */
  readonly predict: (model: string, body: unknown) => Effect.Effect<Answer<Wire.PredictResponse>, ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class GoogleClient extends Context.Tag("@image-gen/google/GoogleClient")<GoogleClient, Service>() {}

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultGeminiBaseUrl = "https://generativelanguage.googleapis.com"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultVertexBaseUrl = "https://{location}-aiplatform.googleapis.com"

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultLocation = "us-central1"

const multiRegions = new Set(["us", "eu"])

/**
 * The Vertex host for a location: `{location}` in the template is substituted; the `global` location
 * drops the `{location}-` prefix (`https://aiplatform.googleapis.com`), and with the default template
 * the multi-regions `us`/`eu` use `https://aiplatform.{location}.rep.googleapis.com`.
 *
 * @since 0.1.0
 * @category Utils
 */
export const vertexHost = (template: string, location: string): string => {
  if (template === defaultVertexBaseUrl && multiRegions.has(location)) {
    return `https://aiplatform.${location}.rep.googleapis.com`
  }
  return template
    .replace(/\{location\}[-.]/g, (m) => location === "global" ? "" : m.replace("{location}", location))
    .replace(/\{location\}/g, location)
    .replace(/\/+$/, "")
}

/** Strips `models/` and `publishers/google/models/` prefixes. */
const bareModel = (model: string) => model.replace(/^(publishers\/google\/)?models\//, "")

/**
 * Builds the client.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.locallyScopedWith(Headers.currentRedactedNames, Arr.append("x-goog-api-key"))
    const backend = options.backend
    const provider = options.providerId ?? "google"
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(180))
    const globalOnly = options.globalOnly ?? ((model: string) => /^gemini-3/.test(model))
    const keyName = backend.keyName ?? (backend._tag === "GeminiApi"
      ? "GOOGLE_GEMINI_API_KEY"
      : backend._tag === "VertexApiKey"
      ? "GOOGLE_VERTEX_API_KEY"
      : GoogleCredentials.adcKeyName)
    const httpClient = (yield* HttpClient.HttpClient).pipe(options.transformClient ?? identity)

    const token: GoogleCredentials.TokenSource | undefined = backend._tag !== "VertexAdc"
      ? undefined
      : backend.accessToken ??
        (yield* GoogleCredentials.fromGoogleAuth(backend.googleAuthOptions ?? {}, { provider }))

    const location = backend._tag === "GeminiApi" ? "" : backend.location ?? defaultLocation
    const urlFor = (model: string, method: string): string => {
      const id = bareModel(model)
      switch (backend._tag) {
        case "GeminiApi":
          return `${(backend.baseUrl ?? defaultGeminiBaseUrl).replace(/\/+$/, "")}/${
            options.apiVersion ?? "v1beta"
          }/models/${id}:${method}`
        case "VertexApiKey":
        case "VertexAdc": {
          const version = options.apiVersion ?? "v1"
          const template = backend.baseUrl ?? defaultVertexBaseUrl
          if (backend.project === undefined) {
            // Express mode: API key, no project, global host.
            return `${vertexHost(template, "global")}/${version}/publishers/google/models/${id}:${method}`
          }
          const loc = globalOnly(id) ? "global" : location
          return `${
            vertexHost(template, loc)
          }/${version}/projects/${backend.project}/locations/${loc}/publishers/google/models/${id}:${method}`
        }
      }
    }

    const serverAddress = ProviderHttp.hostOf(
      backend._tag === "GeminiApi"
        ? backend.baseUrl ?? defaultGeminiBaseUrl
        : vertexHost(backend.baseUrl ?? defaultVertexBaseUrl, backend.project === undefined ? "global" : location)
    )

    const authorize = (request: HttpClientRequest.HttpClientRequest) =>
      token === undefined
        ? Effect.succeed(HttpClientRequest.setHeader(
          request,
          "x-goog-api-key",
          Redacted.value((backend as { readonly apiKey: Redacted.Redacted<string> }).apiKey)
        ))
        : Effect.map(token, (t) => HttpClientRequest.bearerToken(request, t))

    const post = <A, I>(schema: Schema.Schema<A, I>, model: string, method: string, body: unknown) => {
      const site: ProviderHttp.CallSite = { provider, model: bareModel(model), keyName }
      const decode = Schema.decodeUnknown(schema)
      return Effect.gen(function*() {
        const request = yield* authorize(
          HttpClientRequest.post(urlFor(model, method)).pipe(
            HttpClientRequest.acceptJson,
            HttpClientRequest.bodyUnsafeJson(body)
          )
        )
        const response = yield* httpClient.execute(request)
        const text = yield* response.text
        if (response.status < 200 || response.status >= 300) {
          const now = yield* Clock.currentTimeMillis
          return yield* Effect.fail(Errors.fromStatus(site, response.status, response.headers, text, now))
        }
        const json = yield* Schema.decodeUnknown(Schema.parseJson())(text)
        const decoded = yield* decode(json)
        return { response: decoded, json } satisfies Answer<A>
      }).pipe(
        Effect.timeout(timeout),
        ProviderHttp.mapErrors(site, Duration.toMillis(timeout))
      )
    }

    return GoogleClient.of({
      backend: backend._tag,
      serverAddress,
      keyName,
      generateContent: (model, body) => post(Wire.GenerateContentResponse, model, "generateContent", body),
      predict: (model, body) => post(Wire.PredictResponse, model, "predict", body)
    })
  })

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<GoogleClient, never, HttpClient.HttpClient> =>
  Layer.scoped(GoogleClient, make(options))

/**
 * Options of `layerConfig`: everything but the backend, which comes from the environment.
 *
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions extends Omit<Options, "backend"> {
  /** Where the backend comes from. Default `GoogleConfig.google` (the `google` provider's precedence). */
  readonly backend?: Config.Config<Backend> | undefined
  /** Injected token source for ADC (tests, custom credentials). */
  readonly accessToken?: GoogleCredentials.TokenSource | undefined
  /** `google-auth-library` options for ADC. */
  readonly googleAuthOptions?: GoogleCredentials.GoogleAuthOptions | undefined
}

/**
 * The backend from the environment, with the injected token source or auth options applied to ADC.
 *
 * @since 0.1.0
 * @category Configuration
 */
export const backendFromConfig = (
  options: ConfigOptions = {}
): Effect.Effect<Backend, ConfigError.ConfigError> =>
  Effect.map(options.backend ?? GoogleConfig.google, (backend): Backend =>
    backend._tag === "VertexAdc"
      ? {
        ...backend,
        ...(options.accessToken === undefined ? {} : { accessToken: options.accessToken }),
        ...(options.googleAuthOptions === undefined ? {} : { googleAuthOptions: options.googleAuthOptions })
      }
      : backend)

/**
 * The client from environment variables (see `GoogleConfig.google` for the precedence).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<GoogleClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(
    GoogleClient,
    Effect.flatMap(backendFromConfig(options), (backend) => {
      const { accessToken: _a, backend: _b, googleAuthOptions: _g, ...rest } = options
      return make({ ...rest, backend })
    })
  )

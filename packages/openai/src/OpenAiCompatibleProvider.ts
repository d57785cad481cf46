/**
 * The `openai-compatible` provider: any server that speaks the OpenAI Images API (LocalAI, Together,
 * gateways and proxies) with its own base URL, key and model list.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Catalog from "@image-gen/core/Catalog"
import type { ImageError } from "@image-gen/core/ImageError"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import type * as ImageRequest from "@image-gen/core/ImageRequest"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as OpenAiClient from "./OpenAiClient.js"
import * as OpenAiProvider from "./OpenAiProvider.js"

/**
 * The provider id.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "openai-compatible"

/**
 * `http://localhost:8080/v1` (LocalAI's default).
 *
 * @since 0.1.0
 * @category Constants
 */
export const defaultApiUrl = "http://localhost:8080/v1"

/**
 * A model the server offers: its id, and optionally shorthands and capabilities/prices for validation.
 *
 * @since 0.1.0
 * @category Models
 */
export type Model = string | {
  readonly id: string
  readonly shorthands?: ReadonlyArray<string> | undefined
  readonly capabilities?: Catalog.Capabilities | undefined
  readonly price?: Catalog.Price | undefined
}

/**
 * Parses a model list such as `flux-dev, sdxl=stabilityai/sdxl` (comma or whitespace separated,
 * `shorthand=id` to add a shorthand).
 *
 * @since 0.1.0
 * @category Configuration
 */
export const parseModels = (list: string): ReadonlyArray<Model> =>
  list.split(/[\s,]+/).filter((s) => s !== "").map((item): Model => {
    const at = item.indexOf("=")
    return at === -1 ? item : { id: item.slice(at + 1), shorthands: [item.slice(0, at)] }
  })

/**
 * The catalog of a compatible server: its models, no restrictions unless given, unknown ids pass through.
 * The first model is the default.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalogOf = (models: ReadonlyArray<Model>, id: string = providerId): Catalog.CatalogFile => {
  const entries = models.map((m): Catalog.ModelEntry => {
    const model = typeof m === "string" ? { id: m } : m
    return {
      id: model.id,
      shorthands: model.shorthands ?? [],
      output: "image",
      capabilities: model.capabilities ?? {},
      ...(model.price === undefined ? {} : { price: model.price }),
      lifecycle: { status: "current" }
    }
  })
  return {
    provider: id,
    ...(entries[0] === undefined ? {} : { defaultModel: entries[0].id }),
    acceptsUnknownModels: true,
    models: entries
  }
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options extends Omit<OpenAiClient.Options, "provider" | "keyName" | "requireApiKey"> {
  /** The provider id to register under (to install several servers at once). Default `openai-compatible`. */
  readonly id?: string | undefined
  /** Base URL including the version path. Default `http://localhost:8080/v1`. */
  readonly apiUrl?: string | undefined
  /** The models the server offers; the first is the default. */
  readonly models?: ReadonlyArray<Model> | undefined
  /** Token prices per model, if the server reports usage and you know them. */
  readonly tokenPrices?: Readonly<Record<string, OpenAiProvider.TokenPrices>> | undefined
  /** The name shown in authentication errors. Default `OPENAI_COMPATIBLE_API_KEY`. */
  readonly keyName?: string | undefined
}

const clientOptions = (options: Options): OpenAiClient.Options => ({
  ...options,
  apiUrl: options.apiUrl ?? defaultApiUrl,
  provider: options.id ?? providerId,
  keyName: options.keyName ?? "OPENAI_COMPATIBLE_API_KEY",
  // Many local servers take no key: send none and let the server decide.
  requireApiKey: false
})

/**
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.map(OpenAiClient.make(clientOptions(options)), (client) =>
    OpenAiProvider.fromClient(client, {
      catalog: catalogOf(options.models ?? [], options.id ?? providerId),
      ...(options.tokenPrices === undefined ? {} : { tokenPrices: options.tokenPrices })
    }))

/**
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> =>
  Layer.scoped(ImageProvider.ImageProvider, make(options))

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions {
  readonly apiKey?: Config.Config<Option.Option<Redacted.Redacted>> | undefined
  readonly apiUrl?: Config.Config<string> | undefined
  readonly models?: Config.Config<ReadonlyArray<Model>> | undefined
  readonly apiKeyHeader?: Config.Config<Option.Option<string>> | undefined
  readonly id?: string | undefined
  readonly tokenPrices?: Readonly<Record<string, OpenAiProvider.TokenPrices>> | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * Reads `OPENAI_COMPATIBLE_BASE_URL` (default `http://localhost:8080/v1`), `OPENAI_COMPATIBLE_API_KEY`
 * (optional; no key is sent without it), `OPENAI_COMPATIBLE_MODELS` (optional list, see `parseModels`) and
 * `OPENAI_COMPATIBLE_API_KEY_HEADER` (optional header carrying the raw key instead of
 * `Authorization: Bearer`).
 *
 * @since 0.1.0
 * @category Configuration
 */
export const config = (options: ConfigOptions = {}): Config.Config<Options> =>
  Config.all({
    apiKey: options.apiKey ?? Config.option(Config.redacted("OPENAI_COMPATIBLE_API_KEY")),
    apiUrl: options.apiUrl ??
      Config.string("OPENAI_COMPATIBLE_BASE_URL").pipe(Config.withDefault(defaultApiUrl)),
    models: options.models ??
      Config.string("OPENAI_COMPATIBLE_MODELS").pipe(Config.map(parseModels), Config.withDefault([])),
    apiKeyHeader: options.apiKeyHeader ?? Config.option(Config.string("OPENAI_COMPATIBLE_API_KEY_HEADER"))
  }).pipe(Config.map((c): Options => ({
    apiKey: Option.getOrUndefined(c.apiKey),
    apiUrl: c.apiUrl,
    models: c.models,
    apiKeyHeader: Option.getOrUndefined(c.apiKeyHeader),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.tokenPrices === undefined ? {} : { tokenPrices: options.tokenPrices }),
    transformClient: options.transformClient
  })))

/**
 * The provider from the environment (see `config`).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(ImageProvider.ImageProvider, Effect.flatMap(config(options), make))

/**
 * A client for a compatible server, for `stream`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const clientLayer = (
  options: Options = {}
): Layer.Layer<OpenAiClient.OpenAiClient, never, HttpClient.HttpClient> => OpenAiClient.layer(clientOptions(options))

/**
 * Streams partial images from a compatible server that supports `stream: true` (a server that answers
 * JSON instead gives `Completed` events only). Provide `clientLayer(options)`.
 *
 * @since 0.1.0
 * @category Streaming
 */
export const stream = (
  request: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
  options: Pick<Options, "models" | "tokenPrices" | "id"> = {}
): Stream.Stream<OpenAiProvider.StreamEvent, ImageError, OpenAiClient.OpenAiClient> =>
  OpenAiProvider.stream(request, {
    catalog: catalogOf(options.models ?? [], options.id ?? providerId),
    ...(options.tokenPrices === undefined ? {} : { tokenPrices: options.tokenPrices })
  })

/**
 * The `google` provider: Gemini image models (Nano Banana 2, Nano Banana Pro, Nano Banana) and Imagen 4
 * on Vertex AI, authenticated with a Vertex API key or Application Default Credentials, or (legacy
 * `GOOGLE_API_KEY` alone) on the Gemini Developer API. See `GoogleConfig` for the env precedence.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Catalog from "@image-gen/core/Catalog"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import type * as ConfigError from "effect/ConfigError"
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import catalogData from "./catalog.json" with { type: "json" }
import * as GoogleClient from "./GoogleClient.js"
import * as GoogleConfig from "./GoogleConfig.js"
import * as GoogleImageModel from "./GoogleImageModel.js"

/**
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "google"

/**
 * The `google` catalog, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(
      `@image-gen/google: src/catalog.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`
    )
  )
)

/**
 * @since 0.1.0
 * @category Models
 */
export interface ModelOptions {
  /** Token prices per model id, merged over the built-in table (for the reported cost). */
  readonly pricing?: Readonly<Record<string, GoogleImageModel.TokenPrice>> | undefined
  /** `generationConfig.responseModalities`. Default `["TEXT", "IMAGE"]`. */
  readonly responseModalities?: ReadonlyArray<string> | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options extends Omit<GoogleClient.Options, "providerId">, ModelOptions {}

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions extends Omit<GoogleClient.ConfigOptions, "providerId">, ModelOptions {}

/**
 * The provider over the `GoogleClient` in context.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: ModelOptions = {}
): Effect.Effect<ImageProvider.Service, never, GoogleClient.GoogleClient | HttpClient.HttpClient> =>
  GoogleImageModel.make({ providerId, catalog, ...options })

const split = <O extends ModelOptions>(options: O) => {
  const { pricing, responseModalities, ...client } = options
  return {
    model: {
      ...(pricing === undefined ? {} : { pricing }),
      ...(responseModalities === undefined ? {} : { responseModalities })
    },
    client
  }
}

/**
 * The provider with explicit options.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> => {
  const { client, model } = split(options)
  return Layer.effect(ImageProvider.ImageProvider, make(model)).pipe(
    Layer.provide(GoogleClient.layer({ ...client, providerId }))
  )
}

/**
 * The provider from environment variables: `GOOGLE_VERTEX_API_KEY`, or `GOOGLE_CLOUD_PROJECT` +
 * `GOOGLE_CLOUD_LOCATION` with Application Default Credentials, or the legacy `GOOGLE_API_KEY` /
 * `GOOGLE_GENAI_USE_VERTEXAI`; base URLs from `GOOGLE_VERTEX_BASE_URL` / `GOOGLE_GEMINI_BASE_URL`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> => {
  const { client, model } = split(options)
  return Layer.effect(ImageProvider.ImageProvider, make(model)).pipe(
    Layer.provide(GoogleClient.layerConfig({ backend: GoogleConfig.google, ...client, providerId }))
  )
}

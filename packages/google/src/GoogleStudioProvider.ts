/**
 * The `google-studio` provider: Gemini image models (Nano Banana 2, Nano Banana Pro, Nano Banana) on the
 * Gemini Developer API (Google AI Studio), authenticated with `GOOGLE_GEMINI_API_KEY`. No GCP project
 * needed; Imagen and the Vertex-only options (output format) are not available here.
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
import type * as Redacted from "effect/Redacted"
import catalogData from "./catalog-studio.json" with { type: "json" }
import * as GoogleClient from "./GoogleClient.js"
import * as GoogleConfig from "./GoogleConfig.js"
import * as GoogleImageModel from "./GoogleImageModel.js"

/**
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "google-studio"

/**
 * The `google-studio` catalog, decoded from `catalog-studio.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(
      `@image-gen/google: src/catalog-studio.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`
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
export interface Options extends Omit<GoogleClient.Options, "providerId" | "backend">, ModelOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** Default `https://generativelanguage.googleapis.com`. */
  readonly baseUrl?: string | undefined
  /** Named in authentication errors. Default `GOOGLE_GEMINI_API_KEY`. */
  readonly keyName?: string | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface ConfigOptions
  extends Omit<GoogleClient.ConfigOptions, "providerId" | "accessToken" | "googleAuthOptions">, ModelOptions
{}

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

const modelOptions = (options: ModelOptions): ModelOptions => ({
  ...(options.pricing === undefined ? {} : { pricing: options.pricing }),
  ...(options.responseModalities === undefined ? {} : { responseModalities: options.responseModalities })
})

/**
 * The provider with an explicit key.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<ImageProvider.ImageProvider, never, HttpClient.HttpClient> => {
  const { apiKey, baseUrl, keyName, pricing: _p, responseModalities: _r, ...client } = options
  return Layer.effect(ImageProvider.ImageProvider, make(modelOptions(options))).pipe(
    Layer.provide(GoogleClient.layer({
      ...client,
      providerId,
      backend: {
        _tag: "GeminiApi",
        apiKey,
        ...(baseUrl === undefined ? {} : { baseUrl }),
        ...(keyName === undefined ? {} : { keyName })
      }
    }))
  )
}

/**
 * The provider from environment variables: `GOOGLE_GEMINI_API_KEY` (else the legacy `GOOGLE_API_KEY`,
 * unless `GOOGLE_GENAI_USE_VERTEXAI=true`), base URL from `GOOGLE_GEMINI_BASE_URL`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> => {
  const { pricing: _p, responseModalities: _r, ...client } = options
  return Layer.effect(ImageProvider.ImageProvider, make(modelOptions(options))).pipe(
    Layer.provide(GoogleClient.layerConfig({ backend: GoogleConfig.studio, ...client, providerId }))
  )
}

/**
 * The one service a provider implements. A provider package offers a Layer of it; the `ImageGen` router
 * keeps every installed provider by id and adds retries, fallbacks, polling, downloads and telemetry.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Catalog from "./Catalog.js"
import type { ImageError } from "./ImageError.js"
import type { ImageRequest } from "./ImageRequest.js"
import type { ProviderResult } from "./ImageResult.js"

/**
 * One call to a provider: the caller's request with the model already resolved to the provider's native
 * id.
 *
 * @since 0.1.0
 * @category Models
 */
export interface ProviderCall {
  readonly request: ImageRequest
  /** The provider's native model id. */
  readonly model: string
  /** The catalog entry, absent for ids the catalog does not know. */
  readonly entry: Catalog.CatalogModel | undefined
  /** How many images this call must return (the router splits large n into several calls). */
  readonly n: number
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The provider id used in addresses (`fal`, `openai`, `local`, ...). */
  readonly id: string
  /** The OpenTelemetry `gen_ai.provider.name`; defaults to `id`. */
  readonly telemetryName?: string | undefined
  /** The host this provider calls, for the `server.address` span attribute. */
  readonly serverAddress?: string | undefined
  /** The provider's catalog data. */
  readonly catalog: Catalog.CatalogFile
  /**
   * Generates images. Sync providers make one call; job providers run `Polling.run` (submit, poll,
   * result), so a failure after the provider accepted the job is never retried by submitting again.
   */
  readonly generate: (call: ProviderCall) => Effect.Effect<ProviderResult, ImageError>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class ImageProvider extends Context.Tag("@image-gen/core/ImageProvider")<ImageProvider, Service>() {}

/**
 * Builds a provider service. Identity at runtime; gives inference and a single place to document the
 * contract.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (service: Service): Service => service

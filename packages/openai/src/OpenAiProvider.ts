/**
 * The `openai` provider: the OpenAI Images API (generations and edits) for the GPT image models, as an
 * `ImageProvider`, plus a direct `stream` of partial images.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Catalog from "@image-gen/core/Catalog"
import type { ImageError } from "@image-gen/core/ImageError"
import * as ImageProvider from "@image-gen/core/ImageProvider"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import catalogData from "./catalog.json" with { type: "json" }
import * as internal from "./internal/images.js"
import * as OpenAiClient from "./OpenAiClient.js"

/**
 * The provider id.
 *
 * @since 0.1.0
 * @category Constants
 */
export const providerId = "openai"

/**
 * The catalog of the `openai` provider, decoded from `catalog.json`.
 *
 * @since 0.1.0
 * @category Catalog
 */
export const catalog: Catalog.CatalogFile = Catalog.decodeFile(catalogData).pipe(
  Either.getOrThrowWith((error) =>
    new Error(
      `@image-gen/openai: src/catalog.json does not match Catalog.CatalogFile (a packaging bug): ${error.message}`
    )
  )
)

/**
 * Prices in USD per 1M tokens, used to compute `costUsd` from the usage the API reports.
 *
 * @since 0.1.0
 * @category Models
 */
export type TokenPrices = internal.TokenPrices

/**
 * Per-token prices of the GPT image models as published on OpenAI's pricing page (gpt-image-2 from
 * third-party mirrors of it). **UNCONFIRMED**: the wire reference this package follows gives no prices, so
 * they are not used unless you pass them as `tokenPrices`; without them cost comes from the catalog.
 *
 * @since 0.1.0
 * @category Pricing
 */
export const publishedTokenPrices: Readonly<Record<string, TokenPrices>> = {
  "gpt-image-2": { textInput: 5, imageInput: 8, imageOutput: 30, textOutput: 10 },
  "gpt-image-2-2026-04-21": { textInput: 5, imageInput: 8, imageOutput: 30, textOutput: 10 },
  "gpt-image-1.5": { textInput: 5, imageInput: 8, imageOutput: 32, textOutput: 10 },
  "gpt-image-1": { textInput: 5, imageInput: 10, imageOutput: 40 },
  "gpt-image-1-mini": { textInput: 2, imageInput: 2.5, imageOutput: 8 }
}

/**
 * An event of `stream`: a partial image (`partial_image_index` from 0), or a finished image with its
 * usage and cost. With n > 1 there is one `Completed` per image.
 *
 * @since 0.1.0
 * @category Models
 */
export type StreamEvent = internal.StreamEvent

/**
 * @since 0.1.0
 * @category Models
 */
export const StreamEvent = internal.StreamEvent

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options extends OpenAiClient.Options {
  /**
   * Per-model token prices (USD per 1M tokens). When the model has an entry and the response has usage,
   * `costUsd` is computed from the tokens; otherwise from the catalog price of the quality and size the
   * API reports. Pass `publishedTokenPrices` to use OpenAI's list prices.
   */
  readonly tokenPrices?: Readonly<Record<string, TokenPrices>> | undefined
  /** Catalog data replacing the shipped one (extend it with `ImageGen`'s `catalog` option instead). */
  readonly catalog?: Catalog.CatalogFile | undefined
}

/**
 * Builds the provider service from a client.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const fromClient = (
  client: OpenAiClient.Service,
  options: Pick<Options, "tokenPrices" | "catalog"> = {}
): ImageProvider.Service =>
  ImageProvider.make(
    internal.makeService({
      id: client.provider,
      catalog: options.catalog ?? catalog,
      client,
      tokenPrices: options.tokenPrices ?? {}
    })
  )

/**
 * Builds the provider service with its own client.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ImageProvider.Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.map(OpenAiClient.make({ ...options, provider: providerId }), (client) => fromClient(client, options))

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
export interface ConfigOptions extends OpenAiClient.ConfigOptions {
  readonly tokenPrices?: Readonly<Record<string, TokenPrices>> | undefined
  readonly timeout?: Config.Config<number> | undefined
}

/**
 * The provider from the environment: `OPENAI_API_KEY` (calls fail with `AuthenticationError` naming it
 * when it is missing), `OPENAI_BASE_URL` (default `https://api.openai.com/v1`), optional `OPENAI_ORG_ID`
 * and `OPENAI_PROJECT_ID`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(
    ImageProvider.ImageProvider,
    Effect.flatMap(OpenAiClient.config(options), (clientOptions) =>
      make({
        ...clientOptions,
        ...(options.tokenPrices === undefined ? {} : { tokenPrices: options.tokenPrices })
      }))
  )

/**
 * Streams one generation or edit with partial images (`stream: true`, `partial_images` from
 * `providerOptions.partial_images`, default 2). The model is resolved against this provider's catalog
 * (`gpt-image-2` when none is given); retired models fail with `ModelRetired` before any call.
 *
 * ```ts
 * import { OpenAiClient, OpenAiProvider } from "@image-gen/openai"
 *
 * const partials = OpenAiProvider.stream({ prompt: "a red fox", model: "gpt-image-2" }).pipe(
 *   Stream.tap((event) => Console.log(event._tag)),
 *   Stream.provideLayer(OpenAiClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category Streaming
 */
export const stream = (
  request: ImageRequest.ImageRequest | ImageRequest.ImageRequestInput,
  options: Pick<Options, "tokenPrices" | "catalog"> = {}
): Stream.Stream<StreamEvent, ImageError, OpenAiClient.OpenAiClient> =>
  Stream.unwrap(
    Effect.gen(function*() {
      const client = yield* OpenAiClient.OpenAiClient
      const decoded = request instanceof ImageRequest.ImageRequest ? request : yield* ImageRequest.decode(request)
      const config = {
        id: client.provider,
        catalog: { ...(options.catalog ?? catalog), provider: client.provider },
        client,
        tokenPrices: options.tokenPrices ?? {}
      }
      const call = yield* internal.resolveCall(config.id, config.catalog, decoded)
      return internal.stream(config, call)
    })
  )

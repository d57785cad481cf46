/**
 * The providers this command line knows, each with the environment variable that configures it. Only
 * configured providers are installed in the router: a provider whose key is missing is left out rather
 * than failing every run. To add one, append it to `all`.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import { BflProvider } from "@image-gen/bfl"
import { ImageGen, type ImageProvider } from "@image-gen/core"
import { FalProvider } from "@image-gen/fal"
import { GoogleProvider, GoogleStudioProvider } from "@image-gen/google"
import { HiggsfieldProvider } from "@image-gen/higgsfield"
import { IdeogramProvider } from "@image-gen/ideogram"
import { LocalProvider } from "@image-gen/local"
import { OpenAiCompatibleProvider, OpenAiProvider } from "@image-gen/openai"
import { RecraftProvider } from "@image-gen/recraft"
import { ReplicateProvider } from "@image-gen/replicate"
import { StabilityProvider } from "@image-gen/stability"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/**
 * @since 0.1.0
 * @category Models
 */
export interface ProviderSpec {
  /** The provider id, the prefix of its model addresses (`local`, `fal`, ...). */
  readonly id: string
  /** How to name it to a user: "the offline local provider". */
  readonly description: string
  /**
   * The environment variables that configure it (any one set is enough); empty for providers that need
   * none.
   */
  readonly envVars: ReadonlyArray<string>
  readonly layer: Layer.Layer<ImageProvider.ImageProvider, ConfigError.ConfigError, HttpClient.HttpClient>
}

/**
 * Every provider the command line can use, in order of preference for the default model: the first
 * provider with a key set wins; keyless providers (the offline local one) come last.
 *
 * @since 0.1.0
 * @category Providers
 */
export const all: ReadonlyArray<ProviderSpec> = [
  { id: "openai", description: "OpenAI", envVars: ["OPENAI_API_KEY"], layer: OpenAiProvider.layerConfig() },
  {
    id: "google",
    description: "Google Vertex AI",
    envVars: ["GOOGLE_VERTEX_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_API_KEY"],
    layer: GoogleProvider.layerConfig()
  },
  {
    id: "google-studio",
    description: "Google AI Studio",
    envVars: ["GOOGLE_GEMINI_API_KEY", "GOOGLE_API_KEY"],
    layer: GoogleStudioProvider.layerConfig()
  },
  { id: "fal", description: "fal.ai", envVars: ["FAL_KEY", "FAL_KEY_ID"], layer: FalProvider.layerConfig() },
  {
    id: "replicate",
    description: "Replicate",
    envVars: ["REPLICATE_API_TOKEN"],
    layer: ReplicateProvider.layerConfig()
  },
  { id: "bfl", description: "Black Forest Labs", envVars: ["BFL_API_KEY"], layer: BflProvider.layerConfig() },
  {
    id: "higgsfield",
    description: "Higgsfield",
    envVars: ["HIGGSFIELD_API_KEY"],
    layer: HiggsfieldProvider.layerConfig()
  },
  {
    id: "stability",
    description: "Stability AI",
    envVars: ["STABILITY_API_KEY"],
    layer: StabilityProvider.layerConfig()
  },
  { id: "recraft", description: "Recraft", envVars: ["RECRAFT_API_TOKEN"], layer: RecraftProvider.layerConfig() },
  { id: "ideogram", description: "Ideogram", envVars: ["IDEOGRAM_API_KEY"], layer: IdeogramProvider.layerConfig() },
  {
    id: "openai-compatible",
    description: "an OpenAI-compatible server",
    envVars: ["OPENAI_COMPATIBLE_BASE_URL"],
    layer: OpenAiCompatibleProvider.layerConfig()
  },
  { id: "local", description: "the offline local provider", envVars: [], layer: LocalProvider.layer() }
]

/**
 * The providers whose environment variable is set, plus those that need none.
 *
 * @since 0.1.0
 * @category Providers
 */
export const configured = (specs: ReadonlyArray<ProviderSpec> = all): Effect.Effect<Array<ProviderSpec>> =>
  Effect.filter(specs, (spec) =>
    spec.envVars.length === 0
      ? Effect.succeed(true)
      : Effect.exists(spec.envVars, (name) =>
        Config.option(Config.nonEmptyString(name)).pipe(
          Effect.map(Option.isSome),
          Effect.orElseSucceed(() => false)
        )))

/**
 * The router over the configured providers. Its retry policy comes from `IMAGE_GEN_RETRY_ATTEMPTS` and
 * `IMAGE_GEN_RETRY_MAX_WAIT`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  specs: ReadonlyArray<ProviderSpec> = all
): Layer.Layer<
  ImageGen.ImageGen,
  ConfigError.ConfigError,
  HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> => Layer.unwrapEffect(Effect.map(configured(specs), (list) => ImageGen.layer(list.map((spec) => spec.layer))))

/**
 * The model to use when `-m` is not given: the default model of the first installed provider that is
 * configured by a key, else the first keyless one (the offline local provider), with a notice saying so.
 * `undefined` leaves the choice to the router.
 *
 * @since 0.1.0
 * @category Providers
 */
export const defaultModel = (
  installed: ReadonlyArray<string>,
  specs: ReadonlyArray<ProviderSpec> = all
): { readonly address: string; readonly keyless: ProviderSpec | undefined } | undefined => {
  const available = specs.filter((spec) => installed.includes(spec.id))
  const keyed = available.find((spec) => spec.envVars.length > 0)
  if (keyed !== undefined) return { address: keyed.id, keyless: undefined }
  const keyless = available.find((spec) => spec.envVars.length === 0)
  if (keyless !== undefined) return { address: keyless.id, keyless }
  return undefined
}

/**
 * The known provider a model address names whose key is not set, if any: `-m fal:flux` without
 * `FAL_KEY`.
 *
 * @since 0.1.0
 * @category Providers
 */
export const unconfigured = (
  address: string,
  installed: ReadonlyArray<string>,
  specs: ReadonlyArray<ProviderSpec> = all
): ProviderSpec | undefined => {
  const match = /^([a-z0-9][a-z0-9._-]*)(?::|$)/.exec(address.trim())
  if (match === null) return undefined
  const id = match[1]!
  return installed.includes(id) ? undefined : specs.find((spec) => spec.id === id && spec.envVars.length > 0)
}

/**
 * How to configure a provider, for messages: `FAL_KEY or FAL_KEY_ID`.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const howToConfigure = (spec: ProviderSpec): string => spec.envVars.join(" or ")

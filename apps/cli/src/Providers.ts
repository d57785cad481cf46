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
import { ImageGen, type ImageProvider } from "@image-gen/core"
import { LocalProvider } from "@image-gen/local"
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
  /** The environment variable holding its key; `undefined` for providers that need none. */
  readonly envVar: string | undefined
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
  { id: "local", description: "the offline local provider", envVar: undefined, layer: LocalProvider.layer() }
]

/**
 * The providers whose environment variable is set, plus those that need none.
 *
 * @since 0.1.0
 * @category Providers
 */
export const configured = (specs: ReadonlyArray<ProviderSpec> = all): Effect.Effect<Array<ProviderSpec>> =>
  Effect.filter(specs, (spec) =>
    spec.envVar === undefined
      ? Effect.succeed(true)
      : Config.option(Config.nonEmptyString(spec.envVar)).pipe(
        Effect.map(Option.isSome),
        Effect.orElseSucceed(() => false)
      ))

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
  const keyed = available.find((spec) => spec.envVar !== undefined)
  if (keyed !== undefined) return { address: keyed.id, keyless: undefined }
  const keyless = available.find((spec) => spec.envVar === undefined)
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
  return installed.includes(id) ? undefined : specs.find((spec) => spec.id === id && spec.envVar !== undefined)
}

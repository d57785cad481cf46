/**
 * `image-gen models`: the catalog of the installed providers, as text or as one JSON object.
 *
 * @since 0.1.0
 */
import { Catalog, ImageError, ImageGen } from "@image-gen/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { BadInput } from "./CliError.js"
import * as Providers from "./Providers.js"

/**
 * The parsed flags of `models`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Flags {
  readonly provider: Option.Option<string>
  readonly json: boolean
}

/**
 * One model as `models --json` reports it.
 *
 * @since 0.1.0
 * @category Models
 */
export interface JsonModel {
  /** `provider:id`, what `-m` takes. */
  readonly address: string
  readonly provider: string
  readonly id: string
  readonly name: string | null
  /** Whether this is its provider's default model (`-m provider`). */
  readonly default: boolean
  readonly shorthands: ReadonlyArray<string>
  readonly output: "image" | "video"
  readonly capabilities: Catalog.Capabilities
  readonly price: Catalog.Price | null
  readonly lifecycle: Catalog.Lifecycle
}

/**
 * The one object `models --json` prints on stdout.
 *
 * @since 0.1.0
 * @category Models
 */
export interface JsonCatalog {
  /** Installed (configured) providers. */
  readonly providers: ReadonlyArray<string>
  readonly models: ReadonlyArray<JsonModel>
}

const defaultOf = (catalog: Catalog.Catalog, provider: string): string | undefined => {
  const file = catalog.providers.get(provider)
  return file?.defaultModel ?? file?.models[0]?.id
}

/**
 * A one-line summary of what a model accepts.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const describeCapabilities = (caps: Catalog.Capabilities): string => {
  const parts: Array<string> = []
  if (caps.sizes !== undefined) parts.push(`sizes ${caps.sizes.join(", ")}`)
  else if (caps.minDimension !== undefined || caps.maxDimension !== undefined) {
    const range = caps.minDimension === undefined
      ? `up to ${caps.maxDimension}px`
      : caps.maxDimension === undefined
      ? `from ${caps.minDimension}px`
      : `${caps.minDimension}-${caps.maxDimension}px`
    const multiple = caps.dimensionMultipleOf === undefined ? "" : `, multiples of ${caps.dimensionMultipleOf}`
    parts.push(`sides ${range}${multiple}`)
  }
  if (caps.aspectRatios !== undefined) parts.push(`ratios ${caps.aspectRatios.join(", ")}`)
  if (caps.resolutions !== undefined) parts.push(`resolutions ${caps.resolutions.join(", ")}`)
  if (caps.maxN !== undefined) parts.push(`n up to ${caps.maxN}`)
  if (caps.outputFormats !== undefined) parts.push(`formats ${caps.outputFormats.join(", ")}`)
  const features = [
    ...(caps.seed === true ? ["seed"] : []),
    ...(caps.negativePrompt === true ? ["negative prompt"] : []),
    ...(caps.edit === true ? ["input images"] : []),
    ...(caps.mask === true ? ["mask"] : [])
  ]
  if (features.length > 0) parts.push(features.join(", "))
  return parts.join("; ")
}

/**
 * A price for people.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const describePrice = (price: Catalog.Price | undefined): string => {
  if (price === undefined) return "price unknown"
  const usd = (x: number) => x === 0 ? "free" : `$${x}`
  if (price.perImage !== undefined) return price.perImage === 0 ? "free" : `${usd(price.perImage)}/image`
  if (price.perMegapixel !== undefined) return `${usd(price.perMegapixel)}/megapixel`
  if (price.perSecond !== undefined) return `${usd(price.perSecond)}/second`
  if (price.byQuality !== undefined) {
    return Object.entries(price.byQuality).map(([q, x]) => `${q} ${usd(x)}`).join(", ")
  }
  if (price.bySize !== undefined) return Object.entries(price.bySize).map(([s, x]) => `${s} ${usd(x)}`).join(", ")
  return price.note ?? "price unknown"
}

/**
 * Runs `models`.
 *
 * @since 0.1.0
 * @category Commands
 */
export const run = (
  flags: Flags
): Effect.Effect<void, ImageError.ImageError | BadInput, ImageGen.ImageGen> =>
  Effect.gen(function*() {
    const gen = yield* ImageGen.ImageGen
    const provider = Option.getOrUndefined(flags.provider)?.trim()
    if (provider !== undefined && !gen.providers.includes(provider)) {
      const missing = Providers.unconfigured(provider, gen.providers)
      if (missing !== undefined) {
        return yield* new BadInput({
          detail: `provider "${provider}" is not configured: set ${Providers.howToConfigure(missing)}`
        })
      }
      return yield* new ImageError.UnknownProvider({ provider, installed: gen.providers })
    }
    const catalog = yield* gen.catalog
    const models = Catalog.models(catalog, provider).filter((m) => gen.providers.includes(m.provider))

    if (flags.json) {
      const json: JsonCatalog = {
        providers: provider === undefined ? gen.providers : [provider],
        models: models.map((m) => ({
          address: `${m.provider}:${m.id}`,
          provider: m.provider,
          id: m.id,
          name: m.name ?? null,
          default: defaultOf(catalog, m.provider) === m.id,
          shorthands: m.shorthands,
          output: m.output,
          capabilities: m.capabilities,
          price: m.price ?? null,
          lifecycle: m.lifecycle
        }))
      }
      return yield* Console.log(JSON.stringify(json))
    }

    const lines = models.flatMap((m) => {
      const flags = [
        ...(defaultOf(catalog, m.provider) === m.id ? ["default"] : []),
        ...(m.lifecycle.status === "current" ? [] : [m.lifecycle.status]),
        ...(m.output === "video" ? ["video"] : [])
      ]
      const head = `${m.provider}:${m.id}${flags.length === 0 ? "" : ` (${flags.join(", ")})`}${
        m.name === undefined ? "" : `  ${m.name}`
      }`
      const aliases = m.shorthands.length === 0 ? [] : [`  also: ${m.shorthands.join(", ")}`]
      const caps = describeCapabilities(m.capabilities)
      return [head, ...aliases, ...(caps === "" ? [] : [`  ${caps}`]), `  ${describePrice(m.price)}`]
    })
    const notConfigured = provider === undefined
      ? Providers.all.filter((spec) => spec.envVars.length > 0 && !gen.providers.includes(spec.id))
        .map((spec) => `${spec.id}: not configured (set ${Providers.howToConfigure(spec)})`)
      : []
    const output = lines.length === 0 ? ["no models"] : lines
    yield* Effect.forEach([...output, ...notConfigured], (line) => Console.log(line), { discard: true })
  })

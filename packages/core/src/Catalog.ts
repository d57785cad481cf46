/**
 * The model catalog: data, not code. Each provider package ships a catalog file decoded by
 * `CatalogFile`; the router merges the catalogs of installed providers, users extend it at runtime, and
 * requests are resolved and validated against it before any network call.
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidRequest, ModelRetired, UnknownModel, UnknownProvider, UnsupportedCapability } from "./ImageError.js"
import * as ImageRequest from "./ImageRequest.js"

/**
 * What a model can do. A missing field means "not restricted by the catalog".
 *
 * @since 0.1.0
 * @category Schemas
 */
export const Capabilities = Schema.Struct({
  /** Exact sizes accepted, as WxH. */
  sizes: Schema.optional(Schema.Array(Schema.String)),
  minDimension: Schema.optional(Schema.Number),
  maxDimension: Schema.optional(Schema.Number),
  /** Width and height must be multiples of this. */
  dimensionMultipleOf: Schema.optional(Schema.Number),
  aspectRatios: Schema.optional(Schema.Array(Schema.String)),
  resolutions: Schema.optional(Schema.Array(ImageRequest.Resolution)),
  maxN: Schema.optional(Schema.Number),
  /** Images one provider call returns at most; larger n is split into several calls. */
  maxPerCall: Schema.optional(Schema.Number),
  seed: Schema.optional(Schema.Boolean),
  negativePrompt: Schema.optional(Schema.Boolean),
  /** Accepts input images (editing, image-to-image, image-to-video). */
  edit: Schema.optional(Schema.Boolean),
  /** Input images are required (image-to-video, edit-only models). */
  requiresImage: Schema.optional(Schema.Boolean),
  maxInputImages: Schema.optional(Schema.Number),
  mask: Schema.optional(Schema.Boolean),
  outputFormats: Schema.optional(Schema.Array(ImageRequest.OutputFormat)),
  qualities: Schema.optional(Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category Models
 */
export type Capabilities = typeof Capabilities.Type

/**
 * How to estimate the cost of a call. The first that applies wins: `byQuality[quality]`,
 * `bySize[size]`, `perMegapixel` times the output megapixels, `perImage`; all multiplied by n.
 * `perSecond` is for video models.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const Price = Schema.Struct({
  perImage: Schema.optional(Schema.Number),
  perMegapixel: Schema.optional(Schema.Number),
  perSecond: Schema.optional(Schema.Number),
  byQuality: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number })),
  bySize: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number })),
  note: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category Models
 */
export type Price = typeof Price.Type

/**
 * @since 0.1.0
 * @category Schemas
 */
export const Lifecycle = Schema.Struct({
  status: Schema.Literal("current", "deprecated", "retired"),
  /** ISO date the model was (or will be) deprecated or retired. */
  date: Schema.optional(Schema.String),
  /** The address to use instead. */
  replacement: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category Models
 */
export type Lifecycle = typeof Lifecycle.Type

/**
 * One model of one provider.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const ModelEntry = Schema.Struct({
  /** The provider's native model id. */
  id: Schema.String,
  shorthands: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  name: Schema.optional(Schema.String),
  output: Schema.optionalWith(Schema.Literal("image", "video"), { default: () => "image" as const }),
  capabilities: Schema.optionalWith(Capabilities, { default: () => ({}) }),
  price: Schema.optional(Price),
  lifecycle: Schema.optionalWith(Lifecycle, { default: () => ({ status: "current" as const }) })
})

/**
 * @since 0.1.0
 * @category Models
 */
export type ModelEntry = typeof ModelEntry.Type

/**
 * The catalog data file a provider package ships.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const CatalogFile = Schema.Struct({
  provider: Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9._-]*$/)),
  /** As of when the data was checked, ISO date. */
  updated: Schema.optional(Schema.String),
  /** The model used when a request names only the provider. */
  defaultModel: Schema.optional(Schema.String),
  /** Whether full model ids missing from the catalog pass through to the provider without validation. */
  acceptsUnknownModels: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  models: Schema.Array(ModelEntry)
})

/**
 * @since 0.1.0
 * @category Models
 */
export type CatalogFile = typeof CatalogFile.Type

/**
 * Decodes catalog data shipped as JSON, failing with a message naming the bad field.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const decodeFile = (data: unknown): Either.Either<CatalogFile, ParseResult.ParseError> =>
  Schema.decodeUnknownEither(CatalogFile)(data, { errors: "all" })

/**
 * A catalog entry with the provider it belongs to.
 *
 * @since 0.1.0
 * @category Models
 */
export interface CatalogModel extends ModelEntry {
  readonly provider: string
}

/**
 * The merged catalog of every installed provider.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Catalog {
  readonly providers: ReadonlyMap<string, CatalogFile>
}

/**
 * @since 0.1.0
 * @category Constructors
 */
export const empty: Catalog = { providers: new Map() }

/**
 * Merges catalog files. For a provider already present, entries with the same id are replaced and new
 * ones appended, so users can extend or correct a provider's catalog at runtime.
 *
 * @since 0.1.0
 * @category Combinators
 */
export const merge = (self: Catalog, ...files: ReadonlyArray<CatalogFile>): Catalog => {
  const providers = new Map(self.providers)
  for (const file of files) {
    const existing = providers.get(file.provider)
    if (existing === undefined) {
      providers.set(file.provider, file)
      continue
    }
    const byId = new Map(existing.models.map((m) => [m.id, m] as const))
    for (const m of file.models) byId.set(m.id, m)
    providers.set(file.provider, {
      ...existing,
      ...(file.defaultModel === undefined ? {} : { defaultModel: file.defaultModel }),
      ...(file.updated === undefined ? {} : { updated: file.updated }),
      models: Array.from(byId.values())
    })
  }
  return { providers }
}

/**
 * Every model, with its provider.
 *
 * @since 0.1.0
 * @category Accessors
 */
export const models = (self: Catalog, provider?: string): ReadonlyArray<CatalogModel> =>
  Array.from(self.providers.values()).flatMap((file) =>
    provider !== undefined && file.provider !== provider
      ? []
      : file.models.map((m) => ({ ...m, provider: file.provider }))
  )

/**
 * A model address resolved to a provider and a native id. `entry` is absent for ids the catalog does not
 * know, which pass through without validation.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Resolved {
  readonly provider: string
  readonly model: string
  readonly entry: CatalogModel | undefined
}

const prefixed = /^([a-z0-9][a-z0-9._-]*):(.*)$/

/**
 * Resolves `provider:model`, a bare shorthand or a bare full id against the installed providers.
 *
 * - `provider:` with an unknown provider is `UnknownProvider` listing the installed ones.
 * - `provider` alone (or `provider:`) uses that provider's default model.
 * - A retired model is `ModelRetired` naming its replacement.
 *
 * @since 0.1.0
 * @category Resolution
 */
export const resolve = (
  self: Catalog,
  address: string,
  installed: ReadonlyArray<string>
): Effect.Effect<Resolved, UnknownProvider | UnknownModel | ModelRetired | InvalidRequest> =>
  Effect.suspend((): Effect.Effect<Resolved, UnknownProvider | UnknownModel | ModelRetired | InvalidRequest> => {
    const trimmed = address.trim()
    if (trimmed === "") return Effect.fail(new InvalidRequest({ field: "model", detail: "must not be empty" }))
    const match = prefixed.exec(trimmed)
    if (match !== null) {
      const provider = match[1]!
      const rest = match[2]!.trim()
      if (!installed.includes(provider)) {
        return Effect.fail(new UnknownProvider({ provider, installed }))
      }
      return resolveIn(self, provider, rest, installed)
    }
    if (installed.includes(trimmed)) return resolveIn(self, trimmed, "", installed)
    const candidates = models(self).filter((m) => installed.includes(m.provider))
    const found = candidates.find((m) => m.shorthands.includes(trimmed)) ?? candidates.find((m) => m.id === trimmed)
    if (found !== undefined) return checkLifecycle({ provider: found.provider, model: found.id, entry: found })
    return Effect.fail(new UnknownModel({ model: trimmed, suggestions: suggest(candidates, trimmed) }))
  })

const resolveIn = (
  self: Catalog,
  provider: string,
  model: string,
  installed: ReadonlyArray<string>
): Effect.Effect<Resolved, UnknownModel | ModelRetired | UnknownProvider> => {
  const file = self.providers.get(provider)
  const entries = file === undefined ? [] : models(self, provider)
  if (model === "") {
    const fallback = file?.defaultModel ?? entries[0]?.id
    if (fallback === undefined) return Effect.fail(new UnknownModel({ model: `${provider}:`, suggestions: [] }))
    return resolveIn(self, provider, fallback, installed)
  }
  const found = entries.find((m) => m.shorthands.includes(model)) ?? entries.find((m) => m.id === model)
  if (found !== undefined) return checkLifecycle({ provider, model: found.id, entry: found })
  if (file !== undefined && !file.acceptsUnknownModels) {
    return Effect.fail(
      new UnknownModel({ model: `${provider}:${model}`, suggestions: suggest(entries, model) })
    )
  }
  return Effect.succeed({ provider, model, entry: undefined })
}

const checkLifecycle = (resolved: Resolved): Effect.Effect<Resolved, ModelRetired> => {
  const lifecycle = resolved.entry?.lifecycle
  if (lifecycle?.status === "retired") {
    return Effect.fail(
      new ModelRetired({
        provider: resolved.provider,
        model: resolved.model,
        ...(lifecycle.date === undefined ? {} : { retiredOn: lifecycle.date }),
        ...(lifecycle.replacement === undefined ? {} : { replacement: lifecycle.replacement })
      })
    )
  }
  return Effect.succeed(resolved)
}

/**
 * A sentence warning that a resolved model is deprecated, naming its date and replacement; `undefined` for
 * current models.
 *
 * @since 0.1.0
 * @category Resolution
 */
export const deprecationNotice = (resolved: Resolved): string | undefined => {
  const lifecycle = resolved.entry?.lifecycle
  if (lifecycle?.status !== "deprecated") return undefined
  const date = lifecycle.date === undefined ? "" : ` (retirement ${lifecycle.date})`
  const use = lifecycle.replacement === undefined ? "" : `; use ${lifecycle.replacement} instead`
  return `${resolved.provider}:${resolved.model} is deprecated${date}${use}`
}

/** Up to three names close to what was typed, by edit distance. */
const suggest = (entries: ReadonlyArray<CatalogModel>, typed: string): Array<string> => {
  const names = entries.flatMap((m) => [...m.shorthands, m.id].map((n) => ({ n, address: n })))
  return Arr.dedupe(
    names
      .map(({ address, n }) => ({ address, d: distance(n.toLowerCase(), typed.toLowerCase()) }))
      .filter(({ address, d }) => d <= Math.max(2, Math.floor(typed.length / 3)) || address.includes(typed))
      .sort((a, b) => a.d - b.d)
      .map(({ address }) => address)
  ).slice(0, 3)
}

const distance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * Checks a request against a model's capabilities. Makes no network call. Models the catalog does not
 * know pass without checks.
 *
 * @since 0.1.0
 * @category Validation
 */
export const validate = (
  resolved: Resolved,
  request: ImageRequest.ImageRequest
): Effect.Effect<void, UnsupportedCapability> => {
  const entry = resolved.entry
  if (entry === undefined) return Effect.void
  const caps = entry.capabilities
  const fail = (capability: string, requested: string, supported?: ReadonlyArray<string>) =>
    Effect.fail(
      new UnsupportedCapability({
        provider: resolved.provider,
        model: resolved.model,
        capability,
        requested,
        ...(supported === undefined ? {} : { supported })
      })
    )
  const n = request.n ?? 1
  if (caps.maxN !== undefined && n > caps.maxN) return fail("n", String(n), [`1 to ${caps.maxN}`])
  if (request.size !== undefined) {
    const { height, width } = ImageRequest.parseSize(request.size)
    if (caps.sizes !== undefined && !caps.sizes.includes(request.size)) return fail("size", request.size, caps.sizes)
    if (caps.minDimension !== undefined && Math.min(width, height) < caps.minDimension) {
      return fail("size", request.size, [`sides of at least ${caps.minDimension}px`])
    }
    if (caps.maxDimension !== undefined && Math.max(width, height) > caps.maxDimension) {
      return fail("size", request.size, [`sides of at most ${caps.maxDimension}px`])
    }
    if (
      caps.dimensionMultipleOf !== undefined &&
      (width % caps.dimensionMultipleOf !== 0 || height % caps.dimensionMultipleOf !== 0)
    ) return fail("size", request.size, [`sides that are multiples of ${caps.dimensionMultipleOf}px`])
  }
  if (request.aspectRatio !== undefined && caps.aspectRatios !== undefined) {
    if (!caps.aspectRatios.includes(request.aspectRatio)) {
      return fail("aspect ratio", request.aspectRatio, caps.aspectRatios)
    }
  }
  if (request.resolution !== undefined && caps.resolutions !== undefined) {
    if (!caps.resolutions.includes(request.resolution)) return fail("resolution", request.resolution, caps.resolutions)
  }
  if (request.seed !== undefined && caps.seed === false) return fail("seed", String(request.seed))
  if (request.negativePrompt !== undefined && caps.negativePrompt === false) {
    return fail("negative prompt", JSON.stringify(request.negativePrompt.slice(0, 40)))
  }
  const inputs = request.images?.length ?? 0
  if (inputs > 0 && caps.edit === false) return fail("editing with input images", "")
  if (inputs === 0 && caps.requiresImage === true) return fail("input images", "0", ["at least 1 input image"])
  if (caps.maxInputImages !== undefined && inputs > caps.maxInputImages) {
    return fail("input images", String(inputs), [`at most ${caps.maxInputImages}`])
  }
  if (request.mask !== undefined && caps.mask !== true) return fail("a mask", "")
  if (request.outputFormat !== undefined && caps.outputFormats !== undefined) {
    if (!caps.outputFormats.includes(request.outputFormat)) {
      return fail("output format", request.outputFormat, caps.outputFormats)
    }
  }
  if (request.quality !== undefined && caps.qualities !== undefined && !caps.qualities.includes(request.quality)) {
    return fail("quality", request.quality, caps.qualities)
  }
  return Effect.void
}

/**
 * Estimated cost in USD of a request on a model, from the catalog's price. `None` when the catalog has
 * no price for it.
 *
 * @since 0.1.0
 * @category Cost
 */
export const estimateCost = (
  entry: ModelEntry | undefined,
  request: Pick<ImageRequest.ImageRequest, "n" | "size" | "quality" | "aspectRatio" | "resolution">
): Option.Option<number> => {
  const price = entry?.price
  if (price === undefined) return Option.none()
  const n = request.n ?? 1
  const quality = request.quality === undefined ? undefined : price.byQuality?.[request.quality]
  if (quality !== undefined) return Option.some(quality * n)
  const bySize = request.size === undefined ? undefined : price.bySize?.[request.size]
  if (bySize !== undefined) return Option.some(bySize * n)
  if (price.perMegapixel !== undefined) {
    const { height, width } = ImageRequest.dimensions(request)
    // Megapixels as providers bill them: 1024x1024 is one, partial ones round up.
    return Option.some(Math.max(1, Math.ceil((width * height) / (1024 * 1024))) * price.perMegapixel * n)
  }
  if (price.perImage !== undefined) return Option.some(price.perImage * n)
  return Option.none()
}

/**
 * A faithful fake of the Ideogram 3.0 API for tests, on a loopback `FakeServer`: multipart
 * `/v1/ideogram-v3/generate`, `/edit` and `/remix`, each form checked against the published parameters
 * (unknown fields, bad enums, `resolution` together with `aspect_ratio` get a `400 {"error"}`), the
 * `Api-Key` header, a balance (402 `insufficient_funds`), safety (422 for prompts, `is_image_safe: false`
 * with no URL for outputs), the in-flight limit (429 `inflight_limit`), and ephemeral image URLs with an
 * `exp` parameter that stop working after `expireUrls` (or after their lifetime).
 *
 * @since 0.1.0
 */
import { FakeImage, FakeResponse, FakeRoute, FakeServer } from "@image-gen/testing"
import type { FakeRequest } from "@image-gen/testing"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import catalogData from "./catalog.json" with { type: "json" }

const resolutions = catalogData.models[0]!.capabilities.sizes
const aspectRatios = catalogData.models[0]!.capabilities.aspectRatios.map((r) => r.replace(":", "x"))

const oneOf = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: () => ({ message: `must be one of ${values.join(", ")}`, override: true })
  })
const IntField = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max))
const FileField = Schema.instanceOf(File)
const Many = <A, I>(item: Schema.Schema<A, I>) => Schema.Union(item, Schema.Array(item))
const ColorPalette = Schema.parseJson(
  Schema.Union(
    Schema.Struct({ name: oneOf("EMBER", "FRESH", "JUNGLE", "MAGIC", "MELON", "MOSAIC", "PASTEL", "ULTRAMARINE") }),
    Schema.Struct({
      members: Schema.Array(
        Schema.Struct({
          color_hex: Schema.String.pipe(Schema.pattern(/^#[0-9a-fA-F]{6}$/)),
          color_weight: Schema.optional(Schema.Number.pipe(Schema.between(0.05, 1)))
        })
      )
    })
  )
)

const shared = {
  prompt: Schema.String.pipe(Schema.minLength(1)),
  seed: Schema.optional(IntField(0, 2_147_483_647)),
  rendering_speed: Schema.optional(oneOf("FLASH", "TURBO", "DEFAULT", "QUALITY")),
  magic_prompt: Schema.optional(oneOf("AUTO", "ON", "OFF")),
  num_images: Schema.optional(IntField(1, 8)),
  style_type: Schema.optional(oneOf("AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION")),
  style_codes: Schema.optional(Many(Schema.String.pipe(Schema.pattern(/^[0-9A-Fa-f]{8}$/)))),
  style_reference_images: Schema.optional(Many(FileField)),
  color_palette: Schema.optional(ColorPalette)
}
const sizing = {
  resolution: Schema.optional(oneOf(...resolutions)),
  aspect_ratio: Schema.optional(oneOf(...aspectRatios)),
  negative_prompt: Schema.optional(Schema.String)
}

/**
 * The published form schemas of the v3 endpoints the fake serves. Excess fields are errors.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const schemas = {
  generate: Schema.Struct({
    ...shared,
    ...sizing,
    character_reference_images: Schema.optional(Many(FileField)),
    character_reference_images_mask: Schema.optional(Many(FileField))
  }),
  remix: Schema.Struct({
    ...shared,
    ...sizing,
    image: FileField,
    image_weight: Schema.optional(IntField(1, 100))
  }),
  edit: Schema.Struct({ ...shared, image: FileField, mask: FileField })
} as const

/**
 * @since 0.1.0
 * @category Models
 */
export type Endpoint = keyof typeof schemas

/**
 * Checks a multipart form against an endpoint's schema and rules; returns the decoded fields or
 * Ideogram-style error messages.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const validateForm = (
  endpoint: Endpoint,
  form: FormData
): Either.Either<Record<string, unknown>, ReadonlyArray<string>> => {
  const record: Record<string, unknown> = {}
  for (const key of new Set(form.keys())) {
    const all = form.getAll(key)
    record[key] = all.length === 1 ? all[0] : all
  }
  const decoded = Schema.decodeUnknownEither(schemas[endpoint] as unknown as Schema.Schema<Record<string, unknown>>)(
    record,
    { errors: "all", onExcessProperty: "error" }
  )
  if (Either.isLeft(decoded)) {
    const seen = new Set<string>()
    const errors: Array<string> = []
    for (const issue of ParseResult.ArrayFormatter.formatErrorSync(decoded.left)) {
      const field = String(issue.path[0] ?? "")
      if (seen.has(field)) continue
      seen.add(field)
      const message = issue._tag === "Unexpected"
        ? "is not a valid parameter"
        : issue.message === "is missing"
        ? "is required"
        : issue.message
      errors.push(field === "" ? message : `${field}: ${message}`)
    }
    return Either.left(errors)
  }
  const body = decoded.right
  if (body.resolution !== undefined && body.aspect_ratio !== undefined) {
    return Either.left(["resolution: cannot be combined with aspect_ratio"])
  }
  if (body.style_codes !== undefined && (body.style_type !== undefined || body.style_reference_images !== undefined)) {
    return Either.left(["style_codes: cannot be combined with style_type or style_reference_images"])
  }
  return Either.right(body)
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The only key accepted in `Api-Key`. Default `ideogram-test-key`. */
  readonly apiKey?: string | undefined
  /** Prompts containing one of these get 422 (failed the safety check). Default `["forbidden"]`. */
  readonly blockedTerms?: ReadonlyArray<string> | undefined
  /** Prompts containing one of these get images with `is_image_safe: false` and no URL. Default `["unsafe-output"]`. */
  readonly unsafeTerms?: ReadonlyArray<string> | undefined
  /** Only the first image of a batch is unsafe when the prompt contains one of these. Default `["partly-unsafe"]`. */
  readonly partlyUnsafeTerms?: ReadonlyArray<string> | undefined
  /** Balance in USD; each image costs its speed's price; 402 `insufficient_funds` when short. Default unlimited. */
  readonly balanceUsd?: number | undefined
  /** Images in progress per organization before 429 `inflight_limit`. Default 10. */
  readonly maxInflightImages?: number | undefined
  /** How long a generation takes (images count as in flight meanwhile). Default 0. */
  readonly latency?: Duration.DurationInput | undefined
  /** How long result URLs work. Default 24 hours. */
  readonly urlLifetime?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly server: FakeServer.Service
  readonly url: string
  readonly apiKey: string
  readonly balanceUsd: Effect.Effect<number>
  readonly setBalanceUsd: (usd: number) => Effect.Effect<void>
  /** Makes every URL issued so far answer 403, as an expired signed URL does. */
  readonly expireUrls: Effect.Effect<void>
  /** Every accepted form, decoded. */
  readonly forms: Effect.Effect<
    ReadonlyArray<{ readonly endpoint: Endpoint; readonly fields: Record<string, unknown> }>
  >
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeIdeogram extends Context.Tag("@image-gen/ideogram/FakeIdeogram")<FakeIdeogram, Service>() {}

/**
 * Price per image by rendering speed.
 *
 * @since 0.1.0
 * @category Constants
 */
export const priceOf = (speed: string | undefined): number =>
  speed === "TURBO" ? 0.03 : speed === "QUALITY" ? 0.09 : speed === "FLASH" ? 0.015 : 0.06

/**
 * A solid grey PNG of the given size.
 *
 * @since 0.1.0
 * @category Images
 */
export const png = (width: number, height: number, grey = 128): Uint8Array => FakeImage.png(width, height, grey)

const resolutionOf = (ratio: string | undefined): string => {
  if (ratio === undefined) return "1024x1024"
  const [w, h] = ratio.split("x").map(Number) as [number, number]
  const best = resolutions
    .map((r) => ({ r, d: Math.abs(Number(r.split("x")[0]) / Number(r.split("x")[1]) - w / h) }))
    .sort((a, b) => a.d - b.d)[0]
  return best?.r ?? "1024x1024"
}

/**
 * Starts the fake on 127.0.0.1 (random port) for the scope.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServer.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const apiKey = options.apiKey ?? "ideogram-test-key"
    const lower = (terms: ReadonlyArray<string>) => terms.map((t) => t.toLowerCase())
    const blocked = lower(options.blockedTerms ?? ["forbidden"])
    const unsafe = lower(options.unsafeTerms ?? ["unsafe-output"])
    const partly = lower(options.partlyUnsafeTerms ?? ["partly-unsafe"])
    const maxInflight = options.maxInflightImages ?? 10
    const latency = Duration.decode(options.latency ?? Duration.zero)
    const lifetime = Duration.toMillis(options.urlLifetime ?? Duration.hours(24))
    const balance = yield* Ref.make(options.balanceUsd ?? Number.POSITIVE_INFINITY)
    const inflight = yield* Ref.make(0)
    const files = yield* Ref.make(new Map<string, { readonly bytes: Uint8Array; readonly expiresAt: number }>())
    const forms = yield* Ref.make<ReadonlyArray<{ endpoint: Endpoint; fields: Record<string, unknown> }>>([])
    const baseUrl = yield* Ref.make("")

    const handle = (endpoint: Endpoint) => (request: FakeRequest.FakeRequest) =>
      Effect.gen(function*() {
        if (request.headers["api-key"] !== apiKey) {
          return FakeResponse.json({ error: "Missing or invalid Api-Key" }, { status: 401 })
        }
        const contentType = request.headers["content-type"] ?? ""
        if (!contentType.startsWith("multipart/form-data")) {
          return FakeResponse.json({ error: "Content-Type must be multipart/form-data" }, { status: 400 })
        }
        const form = yield* Effect.tryPromise(() =>
          new Response(request.body, { headers: { "content-type": contentType } }).formData()
        ).pipe(Effect.option)
        if (form._tag === "None") return FakeResponse.json({ error: "Malformed multipart body" }, { status: 400 })
        const checked = validateForm(endpoint, form.value)
        if (Either.isLeft(checked)) return FakeResponse.json({ error: checked.left.join("; ") }, { status: 400 })
        const fields = checked.right
        const prompt = String(fields.prompt).toLowerCase()
        if (blocked.some((t) => prompt.includes(t))) {
          return FakeResponse.json({ error: "Prompt or provided image failed the safety checks" }, { status: 422 })
        }
        const n = typeof fields.num_images === "number" ? fields.num_images : 1
        const speed = typeof fields.rendering_speed === "string" ? fields.rendering_speed : "DEFAULT"
        const cost = priceOf(speed) * n
        const funds = yield* Ref.get(balance)
        if (funds < cost) {
          return FakeResponse.json(
            { error: "Insufficient funds to complete this request", reject_reason: "insufficient_funds" },
            { status: 402 }
          )
        }
        const admitted = yield* Ref.modify(inflight, (k) => (k + n > maxInflight ? [false, k] : [true, k + n]))
        if (!admitted) {
          return FakeResponse.json(
            {
              error: "Too many requests in flight",
              reject_reason: "inflight_limit",
              max_inflight_requests: maxInflight
            },
            { status: 429 }
          )
        }
        return yield* Effect.gen(function*() {
          if (Duration.toMillis(latency) > 0) yield* Effect.sleep(latency)
          yield* Ref.update(balance, (b) => b - cost)
          yield* Ref.update(forms, (all) => [...all, { endpoint, fields }])
          const resolution = typeof fields.resolution === "string"
            ? fields.resolution
            : resolutionOf(typeof fields.aspect_ratio === "string" ? fields.aspect_ratio : undefined)
          const [w, h] = resolution.split("x").map(Number) as [number, number]
          const base = yield* Ref.get(baseUrl)
          const now = Date.now()
          const data = yield* Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
            Effect.gen(function*() {
              const seed = typeof fields.seed === "number" ? fields.seed + i : Math.floor(Math.random() * 2 ** 31)
              const isSafe = !unsafe.some((t) => prompt.includes(t)) &&
                !(i === 0 && partly.some((t) => prompt.includes(t)))
              const common = {
                prompt: fields.magic_prompt === "ON"
                  ? `${String(fields.prompt)}, highly detailed`
                  : String(fields.prompt),
                resolution,
                is_image_safe: isSafe,
                seed,
                style_type: typeof fields.style_type === "string" ? fields.style_type : "GENERAL"
              }
              if (!isSafe) return common
              const name = `${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}.png`
              const expiresAt = now + lifetime
              yield* Ref.update(files, (m) =>
                new Map(m).set(name, { bytes: png(w >> 3, h >> 3, 60 + i * 20), expiresAt }))
              return {
                ...common,
                url: `${base}/api/images/ephemeral/${name}?exp=${Math.floor(expiresAt / 1000)}&sig=fake`
              }
            }))
          return FakeResponse.json({ created: new Date(now).toISOString(), data })
        }).pipe(Effect.ensuring(Ref.update(inflight, (k) =>
          k - n)))
      })

    const serveImage = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        const file = (yield* Ref.get(files)).get(request.params.name!)
        if (file === undefined) return FakeResponse.text("Not Found", { status: 404 })
        if (Date.now() >= file.expiresAt) return FakeResponse.text("Request has expired", { status: 403 })
        return FakeResponse.bytes(file.bytes, { headers: { "content-type": "image/png" } })
      })

    const server = yield* FakeServer.make({
      routes: [
        FakeRoute.post("/v1/ideogram-v3/generate", handle("generate")),
        FakeRoute.post("/v1/ideogram-v3/remix", handle("remix")),
        FakeRoute.post("/v1/ideogram-v3/edit", handle("edit")),
        FakeRoute.get("/api/images/ephemeral/:name", serveImage)
      ],
      fallback: (request) =>
        Effect.succeed(FakeResponse.json({ error: `${request.method} ${request.path} not found` }, { status: 404 }))
    })
    yield* Ref.set(baseUrl, server.url)

    return {
      server,
      url: server.url,
      apiKey,
      balanceUsd: Ref.get(balance),
      setBalanceUsd: (usd) => Ref.set(balance, usd),
      expireUrls: Ref.update(files, (m) => new Map(Array.from(m, ([k, v]) => [k, { ...v, expiresAt: 0 }] as const))),
      forms: Ref.get(forms)
    } satisfies Service
  })

/**
 * The fake as a layer: provides `FakeIdeogram` and the underlying `FakeServer`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<FakeIdeogram | FakeServer.FakeServer, FakeServer.FakeServerError> =>
  Layer.scopedContext(
    Effect.map(make(options), (fake) =>
      Context.make(FakeIdeogram, fake).pipe(Context.add(FakeServer.FakeServer, fake.server)))
  )

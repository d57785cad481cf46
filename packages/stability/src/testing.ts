/**
 * A faithful fake of Stability's v2beta `stable-image` API for tests, on a loopback `FakeServer`:
 * multipart only, `accept: image/*` (bytes plus `finish-reason`/`seed` headers) or `application/json`
 * (base64 body), each endpoint's published form schema enforced (unknown or missing fields get
 * Stability's own `400 bad_request` envelope), bearer auth, credits (402), content moderation (403),
 * `CONTENT_FILTERED` outputs, retired models, and all of `FakeServer`'s scripting and faults.
 *
 * @since 0.1.0
 */
import { FakeImage, FakeResponse, FakeRoute, FakeServer } from "@image-gen/testing"
import type { FakeRequest } from "@image-gen/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

const aspectRatios = ["21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21"] as const

const stylePresets = [
  "enhance",
  "anime",
  "photographic",
  "digital-art",
  "comic-book",
  "fantasy-art",
  "line-art",
  "analog-film",
  "neon-punk",
  "isometric",
  "low-poly",
  "origami",
  "modeling-compound",
  "cinematic",
  "3d-model",
  "pixel-art",
  "tile-texture"
] as const

const sd3Models = [
  "sd3.5-large",
  "sd3.5-large-turbo",
  "sd3.5-medium",
  "sd3.5-flash",
  "sd3-large",
  "sd3-large-turbo",
  "sd3-medium"
] as const

const oneOf = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: () => ({ message: `must be one of ${values.join(", ")}`, override: true })
  })
const IntField = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max))
const NumberField = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.between(min, max))
const FileField = Schema.instanceOf(File)
const Prompt = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(10_000))

const common = {
  prompt: Prompt,
  negative_prompt: Schema.optional(Schema.String.pipe(Schema.maxLength(10_000))),
  seed: Schema.optional(IntField(0, 4_294_967_294)),
  output_format: Schema.optional(oneOf("png", "jpeg", "webp"))
}

/**
 * The published form schemas of the endpoints the fake serves (from Stability's OpenAPI-derived types).
 * Excess fields are errors.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const schemas = {
  ultra: Schema.Struct({
    ...common,
    aspect_ratio: Schema.optional(oneOf(...aspectRatios)),
    image: Schema.optional(FileField),
    strength: Schema.optional(NumberField(0, 1)),
    style_preset: Schema.optional(oneOf(...stylePresets))
  }),
  core: Schema.Struct({
    ...common,
    aspect_ratio: Schema.optional(oneOf(...aspectRatios)),
    style_preset: Schema.optional(oneOf(...stylePresets))
  }),
  sd3: Schema.Struct({
    ...common,
    output_format: Schema.optional(oneOf("png", "jpeg")),
    aspect_ratio: Schema.optional(oneOf(...aspectRatios)),
    model: Schema.optional(oneOf(...sd3Models)),
    mode: Schema.optional(oneOf("text-to-image", "image-to-image")),
    image: Schema.optional(FileField),
    strength: Schema.optional(NumberField(0, 1)),
    cfg_scale: Schema.optional(NumberField(1, 10)),
    style_preset: Schema.optional(oneOf(...stylePresets))
  }),
  inpaint: Schema.Struct({
    ...common,
    image: FileField,
    mask: Schema.optional(FileField),
    grow_mask: Schema.optional(IntField(0, 100)),
    style_preset: Schema.optional(oneOf(...stylePresets))
  })
} as const

/**
 * @since 0.1.0
 * @category Models
 */
export type Endpoint = keyof typeof schemas

/**
 * Validates a multipart body against an endpoint's schema; the messages are Stability's
 * `field: problem` strings.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const validateForm = (
  endpoint: Endpoint,
  form: FormData
): Either.Either<Record<string, unknown>, ReadonlyArray<string>> => {
  const record: Record<string, string | File> = {}
  const errors: Array<string> = []
  for (const [key, value] of form.entries()) {
    if (key in record) errors.push(`${key}: must not be repeated`)
    record[key] = value
  }
  const result = Schema.decodeUnknownEither(schemas[endpoint] as unknown as Schema.Schema<Record<string, unknown>>)(
    record,
    { errors: "all", onExcessProperty: "error" }
  )
  if (result._tag === "Left") {
    const seen = new Set<string>()
    for (const issue of ParseResult.ArrayFormatter.formatErrorSync(result.left)) {
      const field = issue.path.map(String).join(".")
      if (seen.has(field)) continue
      seen.add(field)
      const message = issue._tag === "Unexpected" ? "is not a recognised parameter" : issue.message
      errors.push(field === "" ? message : `${field}: ${message.replace(/^is missing$/, "is required")}`)
    }
  }
  return errors.length > 0 ? Either.left(errors) : Either.right(result._tag === "Right" ? result.right : record)
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The only key accepted as `Authorization: Bearer <key>`. Default `sk-test`. */
  readonly apiKey?: string | undefined
  /** Prompts containing one of these (case-insensitive) get 403 `content_moderation`. Default `["forbidden"]`. */
  readonly moderatedTerms?: ReadonlyArray<string> | undefined
  /** Prompts containing one of these get a blurred 200 with `finish-reason: CONTENT_FILTERED`. Default `["blurry-nsfw"]`. */
  readonly filteredTerms?: ReadonlyArray<string> | undefined
  /** sd3 `model` values that answer as retired (404 `not_found`, "model ... has been retired"). */
  readonly retiredModels?: ReadonlyArray<string> | undefined
  /** Starting credit balance; each call costs the endpoint's credits; 402 when short. Default unlimited. */
  readonly credits?: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly server: FakeServer.Service
  readonly url: string
  readonly apiKey: string
  /** Credits left. */
  readonly credits: Effect.Effect<number>
  readonly setCredits: (credits: number) => Effect.Effect<void>
  /** The decoded form of every accepted generation, in order. */
  readonly forms: Effect.Effect<
    ReadonlyArray<{ readonly endpoint: Endpoint; readonly fields: Record<string, unknown> }>
  >
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeStability extends Context.Tag("@image-gen/stability/FakeStability")<FakeStability, Service>() {}

/**
 * Credits per call by endpoint and sd3 model.
 *
 * @since 0.1.0
 * @category Constants
 */
export const creditsOf = (endpoint: Endpoint, model?: string): number => {
  switch (endpoint) {
    case "ultra":
      return 8
    case "core":
      return 3
    case "inpaint":
      return 3
    case "sd3":
      return model === undefined || model.includes("large") && !model.includes("turbo")
        ? 6.5
        : model.includes("turbo")
        ? 4
        : 3.5
  }
}

const sizes: Record<string, readonly [number, number]> = {
  "21:9": [1536, 640],
  "16:9": [1344, 768],
  "3:2": [1216, 832],
  "5:4": [1152, 896],
  "1:1": [1024, 1024],
  "4:5": [896, 1152],
  "2:3": [832, 1216],
  "9:16": [768, 1344],
  "9:21": [640, 1536]
}

/**
 * A solid grey PNG of the given size.
 *
 * @since 0.1.0
 * @category Images
 */
export const png = (width: number, height: number, grey = 128): Uint8Array => FakeImage.png(width, height, grey)

/** A 1x1 baseline JPEG. */
const jpeg = Buffer.from(
  "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=",
  "base64"
)
/** A 1x1 lossless WebP. */
const webp = Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64")

const requestId = () => crypto.randomUUID().replaceAll("-", "")

const errorReply = (status: number, name: string, errors: ReadonlyArray<string>, id = requestId()) =>
  FakeResponse.json({ id, name, errors }, { status, headers: { "x-request-id": id } })

/**
 * Starts the fake on 127.0.0.1 (random port) for the scope.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, FakeServer.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const apiKey = options.apiKey ?? "sk-test"
    const moderated = (options.moderatedTerms ?? ["forbidden"]).map((t) => t.toLowerCase())
    const filtered = (options.filteredTerms ?? ["blurry-nsfw"]).map((t) => t.toLowerCase())
    const retired = options.retiredModels ?? []
    const credits = yield* Ref.make(options.credits ?? Number.POSITIVE_INFINITY)
    const forms = yield* Ref.make<ReadonlyArray<{ endpoint: Endpoint; fields: Record<string, unknown> }>>([])

    const handle = (endpoint: Endpoint) => (request: FakeRequest.FakeRequest) =>
      Effect.gen(function*() {
        const auth = request.headers["authorization"]
        if (auth === undefined || auth !== `Bearer ${apiKey}`) {
          return errorReply(401, "unauthorized", [
            auth === undefined ? "authorization: missing authorization header" : "authorization: invalid API key"
          ])
        }
        const contentType = request.headers["content-type"] ?? ""
        if (!contentType.startsWith("multipart/form-data")) {
          return errorReply(400, "bad_request", ["content-type: must be multipart/form-data"])
        }
        const form = yield* Effect.tryPromise(() =>
          new Response(request.body, { headers: { "content-type": contentType } }).formData()
        ).pipe(Effect.option)
        if (form._tag === "None") return errorReply(400, "bad_request", ["body: malformed multipart/form-data"])
        const checked = validateForm(endpoint, form.value)
        if (checked._tag === "Left") return errorReply(400, "bad_request", checked.left)
        const fields = checked.right
        if (fields.image !== undefined && fields.strength === undefined && endpoint !== "inpaint") {
          return errorReply(400, "bad_request", ["strength: is required when image is provided"])
        }
        if (endpoint === "sd3" && fields.mode === "image-to-image" && fields.image === undefined) {
          return errorReply(400, "bad_request", ["image: is required for mode image-to-image"])
        }
        if (endpoint === "sd3" && fields.image !== undefined && fields.mode !== "image-to-image") {
          return errorReply(400, "bad_request", ["mode: must be image-to-image when an image is provided"])
        }
        const model = typeof fields.model === "string" ? fields.model : undefined
        if (model !== undefined && retired.includes(model)) {
          return errorReply(404, "not_found", [`model: ${model} has been retired and is no longer available`])
        }
        if (model === "sd3-large-turbo" && fields.negative_prompt !== undefined) {
          return errorReply(400, "bad_request", ["negative_prompt: is not supported by sd3-large-turbo"])
        }
        const prompt = String(fields.prompt).toLowerCase()
        if (moderated.some((t) => prompt.includes(t))) {
          return errorReply(403, "content_moderation", [
            "Your request was flagged by our content moderation system, as a result your request was denied and you were not charged."
          ])
        }
        const cost = creditsOf(endpoint, model)
        const balance = yield* Ref.get(credits)
        if (balance < cost) {
          return errorReply(402, "payment_required", [
            "You lack sufficient credits to make this request. Please purchase more credits and try again."
          ])
        }
        yield* Ref.set(credits, balance - cost)
        yield* Ref.update(forms, (all) => [...all, { endpoint, fields }])

        const format = typeof fields.output_format === "string" ? fields.output_format : "png"
        const [w, h] = sizes[typeof fields.aspect_ratio === "string" ? fields.aspect_ratio : "1:1"]!
        const blurred = filtered.some((t) => prompt.includes(t))
        const bytes = format === "jpeg" ? new Uint8Array(jpeg) : format === "webp" ? new Uint8Array(webp) : png(
          endpoint === "core" ? Math.round(w * 1.2) : w,
          endpoint === "core" ? Math.round(h * 1.2) : h,
          blurred ? 200 : 128
        )
        const seed = typeof fields.seed === "number" && fields.seed !== 0
          ? fields.seed
          : 1 + Math.floor(Math.random() * 4e9)
        const finishReason = blurred ? "CONTENT_FILTERED" : "SUCCESS"
        const id = requestId()
        const accept = request.headers["accept"] ?? ""
        if (accept.startsWith("application/json")) {
          return FakeResponse.json(
            { image: Buffer.from(bytes).toString("base64"), finish_reason: finishReason, seed },
            { headers: { "content-type": `application/json; type=image/${format}`, "x-request-id": id } }
          )
        }
        return FakeResponse.bytes(bytes, {
          headers: {
            "content-type": `image/${format}`,
            "finish-reason": finishReason,
            seed: String(seed),
            "x-request-id": id
          }
        })
      })

    const server = yield* FakeServer.make({
      routes: [
        FakeRoute.post("/v2beta/stable-image/generate/ultra", handle("ultra")),
        FakeRoute.post("/v2beta/stable-image/generate/core", handle("core")),
        FakeRoute.post("/v2beta/stable-image/generate/sd3", handle("sd3")),
        FakeRoute.post("/v2beta/stable-image/edit/inpaint", handle("inpaint"))
      ],
      fallback: (request) =>
        Effect.succeed(errorReply(404, "not_found", [`${request.method} ${request.path}: resource not found`]))
    })

    return {
      server,
      url: server.url,
      apiKey,
      credits: Ref.get(credits),
      setCredits: (n) => Ref.set(credits, n),
      forms: Ref.get(forms)
    } satisfies Service
  })

/**
 * The fake as a layer: provides `FakeStability` and the underlying `FakeServer`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<FakeStability | FakeServer.FakeServer, FakeServer.FakeServerError> =>
  Layer.scopedContext(
    Effect.map(make(options), (fake) =>
      Context.make(FakeStability, fake).pipe(Context.add(FakeServer.FakeServer, fake.server)))
  )

/**
 * A faithful fake of the Recraft API for tests, on a loopback `FakeServer`: `POST /images/generations`
 * (JSON), `/images/imageToImage` and `/images/inpaint` (multipart), each body checked against the
 * published parameters (unknown fields, bad enums, sizes outside the model's table, V3-only parameters on
 * V4 get a `400 {"code","message"}`), bearer auth, an API-unit balance (402), moderation (400),
 * retired models, raster (PNG/WebP) and vector (SVG) results served from expiring URLs or inline
 * base64, and all of `FakeServer`'s scripting and faults.
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

const v3Sizes = [
  "1024x1024",
  "1365x1024",
  "1024x1365",
  "1536x1024",
  "1024x1536",
  "1820x1024",
  "1024x1820",
  "1024x2048",
  "2048x1024",
  "1434x1024",
  "1024x1434",
  "1024x1280",
  "1280x1024",
  "1024x1707",
  "1707x1024"
]
const v4Sizes = [
  "1024x1024",
  "1536x768",
  "768x1536",
  "1280x832",
  "832x1280",
  "1216x896",
  "896x1216",
  "1152x896",
  "896x1152",
  "832x1344",
  "1280x896",
  "896x1280",
  "1344x768",
  "768x1344"
]
const proSizes = ["2048x2048", "3072x1536", "1536x3072", "2560x1664", "1664x2560"]
const ratios = ["1:1", "2:1", "1:2", "3:2", "2:3", "4:3", "3:4", "5:4", "4:5", "6:10", "14:10", "10:14", "16:9", "9:16"]

/**
 * The model ids the fake knows.
 *
 * @since 0.1.0
 * @category Constants
 */
export const models = [
  "recraftv2",
  "recraftv2_vector",
  "recraftv3",
  "recraftv3_vector",
  "recraftv4",
  "recraftv4_vector",
  "recraftv4_pro",
  "recraftv4_pro_vector",
  "recraftv4_1",
  "recraftv4_1_vector",
  "recraftv4_1_pro",
  "recraftv4_1_pro_vector"
] as const

const oneOf = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: () => ({ message: `must be one of ${values.join(", ")}`, override: true })
  })

const styles = ["any", "realistic_image", "digital_illustration", "vector_illustration", "icon", "logo_raster"] as const
const Rgb = Schema.Struct({ rgb: Schema.Tuple(Schema.Int, Schema.Int, Schema.Int) })
const Controls = Schema.Struct({
  colors: Schema.optional(
    Schema.Array(
      Schema.Struct({
        rgb: Rgb.fields.rgb,
        weight: Schema.optional(Schema.Number),
        std: Schema.optional(Schema.Number)
      })
    )
  ),
  background_color: Schema.optional(Rgb),
  artistic_level: Schema.optional(Schema.Int.pipe(Schema.between(0, 5))),
  no_text: Schema.optional(Schema.Boolean)
})

const generationFields = {
  prompt: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(10_000)),
  model: Schema.optional(oneOf(...models)),
  style: Schema.optional(oneOf(...styles)),
  substyle: Schema.optional(Schema.String),
  style_id: Schema.optional(Schema.UUID),
  n: Schema.optional(Schema.Int.pipe(Schema.between(1, 6))),
  response_format: Schema.optional(oneOf("url", "b64_json")),
  negative_prompt: Schema.optional(Schema.String),
  controls: Schema.optional(Controls),
  random_seed: Schema.optional(Schema.Int.pipe(Schema.between(0, 4_294_967_295))),
  image_format: Schema.optional(oneOf("webp", "png")),
  block_nsfw: Schema.optional(Schema.Boolean),
  calculate_features: Schema.optional(Schema.Boolean),
  expire: Schema.optional(Schema.Boolean)
}

const FormInt = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max))
const FormBool = Schema.transform(oneOf("true", "false"), Schema.Boolean, {
  strict: true,
  decode: (s) => s === "true",
  encode: (b) => (b ? "true" : "false")
})
const FileField = Schema.instanceOf(File)
const formFields = {
  prompt: generationFields.prompt,
  model: generationFields.model,
  style: generationFields.style,
  substyle: generationFields.substyle,
  style_id: generationFields.style_id,
  n: Schema.optional(FormInt(1, 6)),
  response_format: generationFields.response_format,
  negative_prompt: generationFields.negative_prompt,
  controls: Schema.optional(Schema.parseJson(Controls)),
  random_seed: Schema.optional(FormInt(0, 4_294_967_295)),
  image_format: generationFields.image_format,
  block_nsfw: Schema.optional(FormBool),
  image: FileField
}

/**
 * The published request schemas the fake enforces. Excess fields are errors.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const schemas = {
  generations: Schema.Struct({
    ...generationFields,
    size: Schema.optional(Schema.String),
    text_layout: Schema.optional(
      Schema.Array(
        Schema.Struct({ text: Schema.String, bbox: Schema.Array(Schema.Tuple(Schema.Number, Schema.Number)) })
      )
    )
  }),
  imageToImage: Schema.Struct({
    ...formFields,
    strength: Schema.NumberFromString.pipe(Schema.between(0, 1))
  }),
  inpaint: Schema.Struct({ ...formFields, mask: FileField })
} as const

/**
 * @since 0.1.0
 * @category Models
 */
export type Endpoint = keyof typeof schemas

const formatIssues = (error: ParseResult.ParseError): Array<string> => {
  const seen = new Set<string>()
  const out: Array<string> = []
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const field = issue.path.map(String).join(".")
    if (seen.has(field)) continue
    seen.add(field)
    const message = issue._tag === "Unexpected"
      ? "unknown parameter"
      : issue.message === "is missing"
      ? "is required"
      : issue.message
    out.push(field === "" ? message : `${field}: ${message}`)
  }
  return out
}

/**
 * Checks a body against an endpoint's schema and the model's rules (sizes, V3-only parameters, prompt
 * length). Returns the decoded body or Recraft-style error messages.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const validate = (
  endpoint: Endpoint,
  input: unknown
): Either.Either<Record<string, unknown>, ReadonlyArray<string>> => {
  const decoded = Schema.decodeUnknownEither(schemas[endpoint] as unknown as Schema.Schema<Record<string, unknown>>)(
    input,
    { errors: "all", onExcessProperty: "error" }
  )
  if (Either.isLeft(decoded)) return Either.left(formatIssues(decoded.left))
  const body = decoded.right
  const model = typeof body.model === "string" ? body.model : "recraftv4_1"
  const v4 = model.startsWith("recraftv4")
  const errors: Array<string> = []
  if (!v4 && String(body.prompt).length > 1000) errors.push("prompt: must be at most 1000 characters for this model")
  if (v4 && body.negative_prompt !== undefined) errors.push("negative_prompt: is not supported by this model")
  if (v4 && body.style !== undefined) errors.push("style: is not supported by this model")
  if (v4 && body.text_layout !== undefined) errors.push("text_layout: is not supported by this model")
  if (typeof body.size === "string") {
    const table = model.includes("_pro") ? proSizes : v4 ? v4Sizes : v3Sizes
    if (!table.includes(body.size) && !ratios.includes(body.size)) {
      errors.push(`size: ${body.size} is not supported by ${model}`)
    }
  }
  if (model.endsWith("_vector") && body.image_format !== undefined) {
    errors.push("image_format: is not supported by vector models")
  }
  return errors.length > 0 ? Either.left(errors) : Either.right(body)
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The only token accepted. Default `recraft-test-token`. */
  readonly apiKey?: string | undefined
  /** Prompts containing one of these get `400 {"code":"content_moderation"}`. Default `["forbidden"]`. */
  readonly moderatedTerms?: ReadonlyArray<string> | undefined
  /** Model ids that answer as retired (`400 {"code":"model_deprecated"}`). */
  readonly retiredModels?: ReadonlyArray<string> | undefined
  /** Starting API units; each image costs its model's units; 402 when short. Default unlimited. */
  readonly units?: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly server: FakeServer.Service
  readonly url: string
  readonly apiKey: string
  /** API units left. */
  readonly units: Effect.Effect<number>
  readonly setUnits: (units: number) => Effect.Effect<void>
  /** Makes every result URL issued so far answer 404 (as after Recraft's ~24 h retention). */
  readonly expireUrls: Effect.Effect<void>
  /** Every accepted request, decoded. */
  readonly bodies: Effect.Effect<ReadonlyArray<{ readonly endpoint: Endpoint; readonly body: Record<string, unknown> }>>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeRecraft extends Context.Tag("@image-gen/recraft/FakeRecraft")<FakeRecraft, Service>() {}

/**
 * API units per image of a model (1000 units = 1 USD).
 *
 * @since 0.1.0
 * @category Constants
 */
export const unitsOf = (model: string): number => {
  const vector = model.endsWith("_vector")
  if (model.includes("_pro")) return vector ? 300 : 250
  return vector ? 80 : 40
}

/**
 * A solid grey PNG of the given size.
 *
 * @since 0.1.0
 * @category Images
 */
export const png = (width: number, height: number, grey = 128): Uint8Array => FakeImage.png(width, height, grey)

const webp = Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64")

/**
 * The SVG the fake returns for vector models.
 *
 * @since 0.1.0
 * @category Utils
 */
export const svg = (prompt: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1024 1024"><title>${
    prompt.replace(/[<&>]/g, "")
  }</title><rect width="1024" height="1024" fill="#f4efe6"/><circle cx="512" cy="512" r="320" fill="#d94f30"/></svg>`

const errorReply = (status: number, code: string, message: string) => FakeResponse.json({ code, message }, { status })

/**
 * Starts the fake on 127.0.0.1 (random port) for the scope.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServer.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const apiKey = options.apiKey ?? "recraft-test-token"
    const moderated = (options.moderatedTerms ?? ["forbidden"]).map((t) => t.toLowerCase())
    const retired = options.retiredModels ?? []
    const units = yield* Ref.make(options.units ?? Number.POSITIVE_INFINITY)
    const files = yield* Ref.make(new Map<string, { readonly bytes: Uint8Array; readonly type: string }>())
    const expired = yield* Ref.make(new Set<string>())
    const bodies = yield* Ref.make<ReadonlyArray<{ endpoint: Endpoint; body: Record<string, unknown> }>>([])
    const urlRef = yield* Ref.make("")

    const handle = (endpoint: Endpoint) => (request: FakeRequest.FakeRequest) =>
      Effect.gen(function*() {
        if (request.headers["authorization"] !== `Bearer ${apiKey}`) {
          return errorReply(401, "not_authenticated", "Invalid or missing API token")
        }
        const contentType = request.headers["content-type"] ?? ""
        let input: unknown
        if (endpoint === "generations") {
          if (!contentType.startsWith("application/json")) {
            return errorReply(400, "invalid_request", "Content-Type must be application/json")
          }
          const json = yield* Effect.option(request.json)
          if (json._tag === "None") return errorReply(400, "invalid_request", "Request body is not valid JSON")
          input = json.value
        } else {
          if (!contentType.startsWith("multipart/form-data")) {
            return errorReply(400, "invalid_request", "Content-Type must be multipart/form-data")
          }
          const form = yield* Effect.tryPromise(() =>
            new Response(request.body, { headers: { "content-type": contentType } }).formData()
          ).pipe(Effect.option)
          if (form._tag === "None") return errorReply(400, "invalid_request", "Malformed multipart body")
          const record: Record<string, unknown> = {}
          for (const [key, value] of form.value.entries()) record[key] = value
          input = record
        }
        const checked = validate(endpoint, input)
        if (Either.isLeft(checked)) return errorReply(400, "invalid_request", checked.left.join("; "))
        const body = checked.right
        const model = typeof body.model === "string" ? body.model : "recraftv4_1"
        if (retired.includes(model)) {
          return errorReply(400, "model_deprecated", `Model ${model} is deprecated and no longer available`)
        }
        const prompt = String(body.prompt).toLowerCase()
        if (moderated.some((t) => prompt.includes(t))) {
          return errorReply(400, "content_moderation", "The prompt was rejected by content moderation")
        }
        const n = typeof body.n === "number" ? body.n : 1
        const cost = unitsOf(model) * n
        const balance = yield* Ref.get(units)
        if (balance < cost) return errorReply(402, "not_enough_credits", "Not enough API units")
        yield* Ref.set(units, balance - cost)
        yield* Ref.update(bodies, (all) => [...all, { endpoint, body }])

        const vector = model.endsWith("_vector") || body.style === "vector_illustration" || body.style === "icon"
        const size = typeof body.size === "string" && body.size.includes("x") ? body.size : "1024x1024"
        const [w, h] = size.split("x").map(Number) as [number, number]
        const base = yield* Ref.get(urlRef)
        const data = yield* Effect.forEach(Array.from({ length: n }), () =>
          Effect.gen(function*() {
            const id = crypto.randomUUID()
            const file = vector
              ? { bytes: new TextEncoder().encode(svg(String(body.prompt))), type: "image/svg+xml", ext: "svg" }
              : body.image_format === "png"
              ? { bytes: png(Math.min(w, 256), Math.min(h, 256)), type: "image/png", ext: "png" }
              : { bytes: new Uint8Array(webp), type: "image/webp", ext: "webp" }
            if (body.response_format === "b64_json") {
              return { image_id: id, b64_json: Buffer.from(file.bytes).toString("base64") }
            }
            const name = `${id}.${file.ext}`
            yield* Ref.update(files, (m) => new Map(m).set(name, file))
            return { image_id: id, url: `${base}/files/${name}?exp=${Math.floor(Date.now() / 1000) + 86_400}` }
          }))
        return FakeResponse.json({ created: Math.floor(Date.now() / 1000), credits: cost, data })
      })

    const serveFile = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        const name = request.params.name!
        const file = (yield* Ref.get(files)).get(name)
        if (file === undefined || (yield* Ref.get(expired)).has(name)) {
          return FakeResponse.text("Not Found", { status: 404 })
        }
        return FakeResponse.bytes(file.bytes, { headers: { "content-type": file.type } })
      })

    const server = yield* FakeServer.make({
      routes: [
        FakeRoute.post("/v1/images/generations", handle("generations")),
        FakeRoute.post("/v1/images/imageToImage", handle("imageToImage")),
        FakeRoute.post("/v1/images/inpaint", handle("inpaint")),
        FakeRoute.get("/files/:name", serveFile)
      ],
      fallback: (request) => Effect.succeed(errorReply(404, "not_found", `${request.method} ${request.path} not found`))
    })
    yield* Ref.set(urlRef, server.url)

    return {
      server,
      url: `${server.url}/v1`,
      apiKey,
      units: Ref.get(units),
      setUnits: (n) => Ref.set(units, n),
      expireUrls: Effect.flatMap(Ref.get(files), (m) => Ref.set(expired, new Set(m.keys()))),
      bodies: Ref.get(bodies)
    } satisfies Service
  })

/**
 * The fake as a layer: provides `FakeRecraft` and the underlying `FakeServer`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<FakeRecraft | FakeServer.FakeServer, FakeServer.FakeServerError> =>
  Layer.scopedContext(
    Effect.map(make(options), (fake) =>
      Context.make(FakeRecraft, fake).pipe(Context.add(FakeServer.FakeServer, fake.server)))
  )

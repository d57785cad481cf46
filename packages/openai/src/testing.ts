/**
 * A faithful fake of the OpenAI Images API on 127.0.0.1, built on `@image-gen/testing`: generations
 * (JSON), edits (multipart with `image` / `image[]` / `mask`, and the JSON form), streaming with partial
 * images (SSE), per-model validation, usage tokens, the error envelope with its status codes, safety
 * blocks, retired models, `x-request-id` and rate-limit headers. Script faults through `server`.
 *
 * @since 0.1.0
 */
import * as FakeImage from "@image-gen/testing/FakeImage"
import * as FakeRequest from "@image-gen/testing/FakeRequest"
import * as FakeResponse from "@image-gen/testing/FakeResponse"
import * as FakeRoute from "@image-gen/testing/FakeRoute"
import * as FakeServer from "@image-gen/testing/FakeServer"
import type * as Fault from "@image-gen/testing/Fault"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The only key accepted (`Bearer <key>`); by default any non-empty bearer token is accepted. */
  readonly apiKey?: string | undefined
  /** Answer 401 without `Authorization`. Default true (set false to play a keyless local server). */
  readonly requireKey?: boolean | undefined
  /** Models that answer 404 `model_not_found` "has been deprecated". Default dall-e-2, dall-e-3, gpt-image-1. */
  readonly retired?: ReadonlyArray<string> | undefined
  /** Models served. Default: the GPT image models and the DALL-E ones (unless retired). */
  readonly models?: ReadonlyArray<string> | undefined
  /** Prompt words that trigger a safety block (400). Default `["forbidden"]`. */
  readonly blockedWords?: ReadonlyArray<string> | undefined
  /** Send `data: [DONE]` at the end of streams (the SDK tolerates it). Default false. */
  readonly sendDone?: boolean | undefined
  /** Wait between stream events, in milliseconds. Default 5. */
  readonly streamInterval?: number | undefined
  /** The path prefix. Default `/v1`. */
  readonly basePath?: string | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The underlying server: request log, scripts, faults. */
  readonly server: FakeServer.Service
  /** The base URL to give clients: `http://127.0.0.1:<port>/v1`. */
  readonly url: string
  /** Route filters for scripting and counting. */
  readonly routes: {
    readonly generations: FakeServer.RequestFilter
    readonly edits: FakeServer.RequestFilter
  }
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeOpenAi extends Context.Tag("@image-gen/openai/testing/FakeOpenAi")<FakeOpenAi, Service>() {}

// ---------------------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------------------

/**
 * A solid-colour PNG of the given size.
 *
 * @since 0.1.0
 * @category Images
 */
export const png = (width: number, height: number, rgb: readonly [number, number, number] = [200, 80, 40]) =>
  FakeImage.png(width, height, rgb)

// A 1x1 JPEG and a 1x1 lossless WebP.
const jpeg1x1 = Buffer.from(
  "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=",
  "base64"
)
const webp1x1 = Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64")

const imageBytes = (format: string, width: number, height: number, prompt: string): Uint8Array => {
  if (format === "jpeg") return jpeg1x1
  if (format === "webp") return webp1x1
  let h = 0
  for (const c of prompt) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return png(width, height, [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff])
}

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

type Family = "gpt-image-2" | "gpt-image" | "dall-e-3" | "dall-e-2"

const familyOf = (model: string): Family =>
  model.startsWith("gpt-image-2")
    ? "gpt-image-2"
    : model.startsWith("dall-e-3")
    ? "dall-e-3"
    : model.startsWith("dall-e-2")
    ? "dall-e-2"
    : "gpt-image"

const gptModels = [
  "gpt-image-2",
  "gpt-image-2-2026-04-21",
  "gpt-image-1.5",
  "gpt-image-1",
  "gpt-image-1-mini",
  "chatgpt-image-latest"
]

class ApiError {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null
  ) {}
}

const invalid = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, message, "invalid_request_error", param, code)

type Fields = Record<string, unknown>

const asInt = (value: unknown): number | undefined => {
  const n = typeof value === "string" ? Number(value) : value
  return typeof n === "number" && Number.isInteger(n) ? n : undefined
}

const asBool = (value: unknown): boolean => value === true || value === "true"

const fixedSizes: Record<Family, ReadonlyArray<string>> = {
  "gpt-image-2": ["auto"],
  "gpt-image": ["1024x1024", "1536x1024", "1024x1536", "auto"],
  "dall-e-3": ["1024x1024", "1792x1024", "1024x1792"],
  "dall-e-2": ["256x256", "512x512", "1024x1024"]
}

const qualities: Record<Family, ReadonlyArray<string>> = {
  "gpt-image-2": ["auto", "low", "medium", "high"],
  "gpt-image": ["auto", "low", "medium", "high"],
  "dall-e-3": ["standard", "hd", "auto"],
  "dall-e-2": ["standard", "auto"]
}

const gptOnly = ["output_format", "output_compression", "background", "moderation", "stream", "partial_images"]

interface Parsed {
  readonly model: string
  readonly family: Family
  readonly prompt: string
  readonly n: number
  readonly size: string
  readonly quality: string
  readonly format: string
  readonly background: string
  readonly stream: boolean
  readonly partials: number
  readonly responseFormat: string
  readonly inputImages: number
}

const validate = (fields: Fields, endpoint: "generations" | "edits", inputImages: number, options: Options) => {
  const model = typeof fields.model === "string" ? fields.model : endpoint === "edits" ? "gpt-image-1.5" : "dall-e-2"
  const retired = options.retired ?? ["dall-e-2", "dall-e-3", "gpt-image-1"]
  if (retired.includes(model)) {
    return new ApiError(
      404,
      `The model \`${model}\` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations`,
      "invalid_request_error",
      null,
      "model_not_found"
    )
  }
  const served = options.models ?? [...gptModels, "dall-e-2", "dall-e-3"]
  if (!served.includes(model)) {
    return new ApiError(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      "invalid_request_error",
      null,
      "model_not_found"
    )
  }
  const family = familyOf(model)
  const gpt = family === "gpt-image" || family === "gpt-image-2"
  const prompt = typeof fields.prompt === "string" ? fields.prompt : ""
  if (prompt === "") return invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
  const maxPrompt = gpt ? 32000 : family === "dall-e-3" ? 4000 : 1000
  if (prompt.length > maxPrompt) {
    return invalid(`Prompt is too long (max ${maxPrompt}).`, "prompt", "string_above_max_length")
  }
  const n = fields.n === undefined ? 1 : asInt(fields.n)
  if (n === undefined || n < 1 || n > 10) {
    return invalid("Invalid 'n': must be an integer from 1 to 10.", "n", "integer_out_of_range")
  }
  if (family === "dall-e-3" && n !== 1) return invalid("You must provide n=1 for this model.", "n")
  if (!gpt) {
    for (const key of gptOnly) {
      if (fields[key] !== undefined) return invalid(`Unknown parameter: '${key}'.`, key, "unknown_parameter")
    }
  } else if (fields.response_format !== undefined) {
    return invalid("Unknown parameter: 'response_format'.", "response_format", "unknown_parameter")
  }
  if (fields.style !== undefined && family !== "dall-e-3") {
    return invalid("Unknown parameter: 'style'.", "style", "unknown_parameter")
  }
  const size = typeof fields.size === "string"
    ? fields.size
    : endpoint === "edits" && !gpt
    ? "1024x1024"
    : gpt
    ? "auto"
    : "1024x1024"
  if (family === "gpt-image-2" && size !== "auto") {
    const m = /^(\d+)x(\d+)$/.exec(size)
    const w = m === null ? 0 : Number(m[1])
    const h = m === null ? 0 : Number(m[2])
    if (
      m === null || w % 16 !== 0 || h % 16 !== 0 || Math.max(w, h) / Math.min(w, h) > 3 ||
      w * h > 3840 * 2160 || Math.max(w, h) > 3840
    ) {
      return invalid(
        `Invalid size '${size}'. Width and height must be multiples of 16, the aspect ratio between 1:3 and 3:1, and at most 3840x2160 pixels.`,
        "size",
        "invalid_value"
      )
    }
  } else if (!fixedSizes[family].includes(size)) {
    return invalid(
      `Invalid value: '${size}'. Supported values are: ${fixedSizes[family].map((s) => `'${s}'`).join(", ")}.`,
      "size",
      "invalid_value"
    )
  }
  const quality = typeof fields.quality === "string" ? fields.quality : gpt ? "auto" : "standard"
  if (!qualities[family].includes(quality)) {
    return invalid(
      `Invalid value: '${quality}'. Supported values are: ${qualities[family].join(", ")}.`,
      "quality",
      "invalid_value"
    )
  }
  const format = typeof fields.output_format === "string" ? fields.output_format : "png"
  if (!["png", "jpeg", "webp"].includes(format)) {
    return invalid(`Invalid value: '${format}'.`, "output_format", "invalid_value")
  }
  const compression = fields.output_compression === undefined ? undefined : asInt(fields.output_compression)
  if (fields.output_compression !== undefined && (compression === undefined || compression < 0 || compression > 100)) {
    return invalid("Invalid 'output_compression': must be an integer from 0 to 100.", "output_compression")
  }
  if (compression !== undefined && format === "png") {
    return invalid("output_compression is only supported for jpeg and webp.", "output_compression")
  }
  const background = typeof fields.background === "string" ? fields.background : "auto"
  if (!["auto", "transparent", "opaque"].includes(background)) {
    return invalid(`Invalid value: '${background}'.`, "background")
  }
  if (background === "transparent" && format === "jpeg") {
    return invalid("Transparent background requires output_format png or webp.", "background")
  }
  if (background === "transparent" && family === "gpt-image-2") {
    return invalid("Transparent backgrounds are not supported for this model.", "background")
  }
  if (fields.moderation !== undefined && !["auto", "low"].includes(String(fields.moderation))) {
    return invalid(`Invalid value: '${String(fields.moderation)}'.`, "moderation")
  }
  const partials = fields.partial_images === undefined ? 0 : asInt(fields.partial_images)
  if (partials === undefined || partials < 0 || partials > 3) {
    return invalid("Invalid 'partial_images': must be an integer from 0 to 3.", "partial_images")
  }
  if (fields.input_fidelity !== undefined) {
    if (endpoint !== "edits" || !gpt) {
      return invalid("Unknown parameter: 'input_fidelity'.", "input_fidelity", "unknown_parameter")
    }
    if (model === "gpt-image-1-mini") {
      return invalid("input_fidelity is not supported for gpt-image-1-mini.", "input_fidelity")
    }
  }
  const responseFormat = typeof fields.response_format === "string" ? fields.response_format : gpt ? "b64_json" : "url"
  if (!["url", "b64_json"].includes(responseFormat)) {
    return invalid(`Invalid value: '${responseFormat}'.`, "response_format")
  }
  if (endpoint === "edits") {
    if (family === "dall-e-3") return invalid("Image editing is not supported for dall-e-3.", "model")
    const max = family === "dall-e-2" ? 1 : 16
    if (inputImages < 1) return invalid("Missing required parameter: 'image'.", "image", "missing_required_parameter")
    if (inputImages > max) return invalid(`Too many images: at most ${max}.`, "image")
  }
  const blocked = (options.blockedWords ?? ["forbidden"]).some((w) => prompt.toLowerCase().includes(w.toLowerCase()))
  if (blocked) {
    return gpt
      ? new ApiError(
        400,
        "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID.",
        "image_generation_user_error",
        null,
        "moderation_blocked"
      )
      : new ApiError(
        400,
        "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
        "invalid_request_error",
        null,
        "content_policy_violation"
      )
  }
  return {
    model,
    family,
    prompt,
    n,
    size,
    quality,
    format,
    background,
    stream: asBool(fields.stream),
    partials,
    responseFormat,
    inputImages
  } satisfies Parsed
}

// ---------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------

const dims = (size: string) => {
  const m = /^(\d+)x(\d+)$/.exec(size)
  return m === null ? { width: 1024, height: 1024 } : { width: Number(m[1]), height: Number(m[2]) }
}

const outputTokensPerImage = (quality: string, size: string) => {
  const base = quality === "low" ? 272 : quality === "medium" ? 1056 : 4160
  const { height, width } = dims(size)
  return Math.round(base * (width * height) / (1024 * 1024))
}

const usageOf = (p: Parsed) => {
  const text = Math.max(1, Math.ceil(p.prompt.length / 4))
  const image = p.inputImages * 323
  const quality = p.quality === "auto" ? "medium" : p.quality
  const output = outputTokensPerImage(quality, p.size === "auto" ? "1024x1024" : p.size) * p.n
  return {
    input_tokens: text + image,
    input_tokens_details: { text_tokens: text, image_tokens: image },
    output_tokens: output,
    total_tokens: text + image + output,
    output_tokens_details: { image_tokens: output, text_tokens: 0 }
  }
}

const errorBody = (e: ApiError) => ({ error: { message: e.message, type: e.type, param: e.param, code: e.code } })

/**
 * An OpenAI error response with the envelope, for scripting (`server.script(filter, [FakeOpenAi.error(...)])`).
 *
 * @since 0.1.0
 * @category Errors
 */
export const error = (
  status: number,
  message: string,
  options: {
    readonly type?: string
    readonly code?: string | null
    readonly param?: string | null
    readonly headers?: Readonly<Record<string, string>>
  } = {}
): FakeResponse.FakeResponse =>
  FakeResponse.json(
    errorBody(
      new ApiError(
        status,
        message,
        options.type ?? "invalid_request_error",
        options.param ?? null,
        options.code ?? null
      )
    ),
    { status, headers: options.headers }
  )

/**
 * `429 insufficient_quota` with `x-should-retry: false`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const insufficientQuota: FakeResponse.FakeResponse = error(
  429,
  "You exceeded your current quota, please check your plan and billing details.",
  { type: "insufficient_quota", code: "insufficient_quota", headers: { "x-should-retry": "false" } }
)

/**
 * `429 rate_limit_exceeded` with `retry-after` (seconds) and the `x-ratelimit-*` headers.
 *
 * @since 0.1.0
 * @category Errors
 */
export const rateLimited = (retryAfterSeconds: number): FakeResponse.FakeResponse =>
  error(429, "Rate limit reached for gpt-image-2 on images per min (IPM): Limit 5, Used 5, Requested 1.", {
    type: "requests",
    code: "rate_limit_exceeded",
    headers: {
      "retry-after": String(retryAfterSeconds),
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": `${retryAfterSeconds}s`
    }
  })

/**
 * Matches both image endpoints (generations and edits), for `server.script`.
 *
 * @since 0.1.0
 * @category Filters
 */
export const routesFilter = (request: FakeRequest.FakeRequest): boolean =>
  request.method === "POST" && /\/images\/(generations|edits)$/.test(request.path)

// ---------------------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------------------

/**
 * Starts the fake on 127.0.0.1 (random port); it stops when the scope closes.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServer.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const base = options.basePath ?? "/v1"
    const counter = yield* Ref.make(0)
    const files = new Map<string, Uint8Array>()
    let serverUrl = ""

    const headersFor = (id: string) => ({
      "x-request-id": id,
      "openai-version": "2020-10-01",
      "openai-processing-ms": "42",
      "x-ratelimit-limit-requests": "50",
      "x-ratelimit-remaining-requests": "49",
      "x-ratelimit-reset-requests": "1.2s"
    })

    const fail = (id: string, e: ApiError) =>
      FakeResponse.json(errorBody(e), { status: e.status, headers: headersFor(id) })

    const authorize = (request: FakeRequest.FakeRequest): ApiError | undefined => {
      const auth = request.headers["authorization"]
      if (auth === undefined || !auth.startsWith("Bearer ") || auth.slice(7).trim() === "") {
        return options.requireKey === false
          ? undefined
          : new ApiError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error"
          )
      }
      const key = auth.slice(7).trim()
      if (options.apiKey !== undefined && key !== options.apiKey) {
        return new ApiError(
          401,
          `Incorrect API key provided: ${key.slice(0, 3)}***${
            key.slice(-4)
          }. You can find your API key at https://platform.openai.com/account/api-keys.`,
          "invalid_request_error",
          null,
          "invalid_api_key"
        )
      }
      return undefined
    }

    const answer = (id: string, p: Parsed, endpoint: "generations" | "edits"): Fault.Reply => {
      const created = Math.floor(Date.now() / 1000)
      const size = p.size === "auto" ? "1024x1024" : p.size
      const { height, width } = dims(size)
      const gpt = p.family === "gpt-image" || p.family === "gpt-image-2"
      const quality = p.quality === "auto" ? (gpt ? "medium" : "standard") : p.quality
      const background = p.background === "auto" ? "opaque" : p.background
      const bytes = imageBytes(p.format, width, height, p.prompt)
      const b64 = Buffer.from(bytes).toString("base64")
      if (p.stream) {
        const kind = endpoint === "generations" ? "image_generation" : "image_edit"
        const echo = { size: p.size, quality: p.quality, background: p.background, output_format: p.format }
        const events: Array<FakeResponse.SseEvent> = []
        for (let i = 0; i < p.partials; i++) {
          const partial = Buffer.from(imageBytes(p.format, Math.max(1, width >> 4), Math.max(1, height >> 4), p.prompt))
            .toString("base64")
          events.push({
            event: `${kind}.partial_image`,
            data: {
              type: `${kind}.partial_image`,
              b64_json: partial,
              partial_image_index: i,
              created_at: created,
              ...echo
            }
          })
        }
        if (p.prompt.includes("[stream-error]")) {
          events.push({
            event: "error",
            data: {
              type: "error",
              error: {
                type: "server_error",
                code: "server_error",
                message: "The server had an error while processing your request.",
                param: null
              }
            }
          })
        } else {
          const usage = usageOf({ ...p, n: 1 })
          for (let i = 0; i < p.n; i++) {
            events.push({
              event: `${kind}.completed`,
              data: {
                type: `${kind}.completed`,
                b64_json: b64,
                created_at: created,
                ...echo,
                background,
                quality,
                size,
                usage
              }
            })
          }
        }
        if (options.sendDone === true) events.push({ data: "[DONE]" })
        return FakeResponse.sse(events, { interval: `${options.streamInterval ?? 5} millis`, headers: headersFor(id) })
      }
      const data = Array.from({ length: p.n }, (_, i) => {
        if (p.responseFormat === "url") {
          const name = `${id}-${i}.png`
          files.set(name, bytes)
          return {
            url: `${serverUrl}/files/${name}?se=2026-12-31&sig=fake`,
            ...(p.family === "dall-e-3" ? { revised_prompt: `A detailed rendering of ${p.prompt}` } : {})
          }
        }
        return {
          b64_json: b64,
          ...(p.family === "dall-e-3" ? { revised_prompt: `A detailed rendering of ${p.prompt}` } : {})
        }
      })
      return FakeResponse.json(
        gpt
          ? { created, background, output_format: p.format, quality, size, data, usage: usageOf(p) }
          : { created, data },
        { headers: headersFor(id) }
      )
    }

    const nextId = Effect.map(Ref.updateAndGet(counter, (n) => n + 1), (n) => `req_${n.toString(16).padStart(24, "0")}`)

    const generations = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        const id = yield* nextId
        const denied = authorize(request)
        if (denied !== undefined) return fail(id, denied)
        const body = yield* Effect.either(request.json)
        if (body._tag === "Left" || typeof body.right !== "object" || body.right === null) {
          return fail(id, invalid("We could not parse the JSON body of your request."))
        }
        const parsed = validate(body.right as Fields, "generations", 0, options)
        return parsed instanceof ApiError ? fail(id, parsed) : answer(id, parsed, "generations")
      })

    const edits = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        const id = yield* nextId
        const denied = authorize(request)
        if (denied !== undefined) return fail(id, denied)
        const contentType = request.headers["content-type"] ?? ""
        if (contentType.includes("application/json")) {
          const body = yield* Effect.either(request.json)
          if (body._tag === "Left" || typeof body.right !== "object" || body.right === null) {
            return fail(id, invalid("We could not parse the JSON body of your request."))
          }
          const fields = body.right as Fields
          const images = Array.isArray(fields.images) ? fields.images as ReadonlyArray<Record<string, unknown>> : []
          for (const [i, ref] of images.entries()) {
            const url = ref.image_url
            const ok =
              (typeof url === "string" && /^(https?:\/\/|data:)/.test(url)) !== (typeof ref.file_id === "string")
            if (!ok) {
              return fail(id, invalid("Each image must have exactly one of image_url or file_id.", `images[${i}]`))
            }
          }
          const model = typeof fields.model === "string" ? fields.model : "gpt-image-1.5"
          if (familyOf(model).startsWith("dall-e")) {
            return fail(id, invalid("The JSON form of image edits supports GPT image models only.", "model"))
          }
          const parsed = validate(fields, "edits", images.length, options)
          return parsed instanceof ApiError ? fail(id, parsed) : answer(id, parsed, "edits")
        }
        const form = yield* Effect.either(FakeRequest.formData(request))
        if (form._tag === "Left") return fail(id, invalid("Expected multipart/form-data or application/json."))
        const fields: Fields = {}
        let images = 0
        for (const [key, value] of form.right.entries()) {
          if (key === "image" || key === "image[]") {
            if (typeof value === "string") return fail(id, invalid("'image' must be a file.", "image"))
            images++
            continue
          }
          if (key === "mask") {
            if (typeof value === "string") return fail(id, invalid("'mask' must be a file.", "mask"))
            continue
          }
          fields[key] = value
        }
        const parsed = validate(fields, "edits", images, options)
        return parsed instanceof ApiError ? fail(id, parsed) : answer(id, parsed, "edits")
      })

    const routes = {
      generations: { method: "POST", path: `${base}/images/generations` },
      edits: { method: "POST", path: `${base}/images/edits` }
    } as const

    const server = yield* FakeServer.make({
      routes: [
        FakeRoute.post(routes.generations.path, generations),
        FakeRoute.post(routes.edits.path, edits),
        FakeRoute.get("/files/:name", (request) =>
          Effect.succeed(
            files.has(request.params.name!)
              ? FakeResponse.bytes(files.get(request.params.name!)!, { headers: { "content-type": "image/png" } })
              : FakeResponse.text("<Error><Code>AuthenticationFailed</Code></Error>", {
                status: 403,
                headers: { "content-type": "application/xml" }
              })
          ))
      ],
      fallback: (request) =>
        Effect.succeed(
          FakeResponse.json(
            errorBody(new ApiError(404, `Invalid URL (${request.method} ${request.path})`, "invalid_request_error")),
            { status: 404 }
          )
        )
    })
    serverUrl = server.url
    return { server, url: `${server.url}${base}`, routes }
  })

/**
 * The fake as a Layer.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options?: Options): Layer.Layer<FakeOpenAi, FakeServer.FakeServerError> =>
  Layer.scoped(FakeOpenAi, make(options))

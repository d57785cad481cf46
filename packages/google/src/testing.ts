/**
 * A faithful fake of Google's image endpoints on `127.0.0.1`, for tests: Gemini `generateContent` (and
 * `streamGenerateContent?alt=sse`) on the Gemini Developer API and on Vertex AI (project paths and
 * express mode), Imagen `:predict`, and an OAuth2 token endpoint for `google-auth-library`. It checks
 * authentication and parameters like the real service, answers with real PNG bytes of the documented
 * sizes, and has ready-made answers for every error and safety outcome (`replies`) to script with
 * `server.script(FakeGoogle.generateContentRequests, [...])`.
 *
 * @since 0.1.0
 */
import { FakeImage, FakeResponse, FakeRoute, FakeServer } from "@image-gen/testing"
import type { FakeRequest, Fault } from "@image-gen/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

// ---------------------------------------------------------------------------------------------------------
// Options and service
// ---------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** AI Studio keys accepted (`x-goog-api-key` or `?key=`). Default `["test-gemini-key"]`. */
  readonly apiKeys?: ReadonlyArray<string> | undefined
  /** Vertex AI API keys accepted (express mode and project paths). Default `["test-vertex-key"]`. */
  readonly vertexApiKeys?: ReadonlyArray<string> | undefined
  /** Bearer tokens accepted on Vertex besides those `/token` issued. Default `["test-access-token"]`. */
  readonly accessTokens?: ReadonlyArray<string> | undefined
  /** Models served. Default: the current Gemini image models and Imagen 4. */
  readonly models?: ReadonlyArray<string> | undefined
  /** Models answered with 404 NOT_FOUND (shut down). Default: the preview ids and Imagen 3. */
  readonly retiredModels?: ReadonlyArray<string> | undefined
  /** Gemini 3 models first emit an interim "thought" image (`thought: true`), as the real ones can. */
  readonly thoughtImages?: boolean | undefined
  /** Vertex serves Gemini 3 image models only in the `global` location (as documented). Default true. */
  readonly gemini3GlobalOnly?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The underlying fake server: request log, scripting, faults. */
  readonly server: FakeServer.Service
  /** `http://127.0.0.1:<port>`: the base URL for both surfaces. */
  readonly url: string
  /** The token endpoint, `<url>/token`. */
  readonly tokenUrl: string
  /** Access tokens the token endpoint has issued, in order. */
  readonly issuedTokens: Effect.Effect<ReadonlyArray<string>>
  /**
   * `google-auth-library` options for ADC against this fake: authorized-user credentials whose token
   * endpoint is `tokenUrl`, so no request ever leaves the machine.
   */
  readonly googleAuthOptions: {
    readonly credentials: {
      readonly type: "authorized_user"
      readonly client_id: string
      readonly client_secret: string
      readonly refresh_token: string
    }
    readonly clientOptions: { readonly endpoints: { readonly oauth2TokenUrl: string } }
  }
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeGoogle extends Context.Tag("@image-gen/google/testing/FakeGoogle")<FakeGoogle, Service>() {}

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultModels: ReadonlyArray<string> = [
  "gemini-3.1-flash-image",
  "gemini-3-pro-image",
  "gemini-2.5-flash-image",
  "imagen-4.0-generate-001",
  "imagen-4.0-ultra-generate-001",
  "imagen-4.0-fast-generate-001"
]

/**
 * @since 0.1.0
 * @category Constants
 */
export const defaultRetiredModels: ReadonlyArray<string> = [
  "gemini-3.1-flash-image-preview",
  "gemini-3-pro-image-preview",
  "imagen-3.0-generate-002"
]

// ---------------------------------------------------------------------------------------------------------
// Request filters for scripting
// ---------------------------------------------------------------------------------------------------------

/**
 * Requests to `generateContent` / `streamGenerateContent` on any surface.
 *
 * @since 0.1.0
 * @category Filters
 */
export const generateContentRequests = (request: FakeRequest.FakeRequest): boolean =>
  /:(stream)?generateContent$/i.test(request.path)

/**
 * Requests to Imagen `:predict` on any surface.
 *
 * @since 0.1.0
 * @category Filters
 */
export const predictRequests = (request: FakeRequest.FakeRequest): boolean => /:predict$/.test(request.path)

// ---------------------------------------------------------------------------------------------------------
// Ready-made answers
// ---------------------------------------------------------------------------------------------------------

const rpcError = (
  code: number,
  status: string,
  message: string,
  details?: ReadonlyArray<unknown>,
  headers?: Readonly<Record<string, string>>
) =>
  FakeResponse.json(
    { error: { code, message, status, ...(details === undefined ? {} : { details }) } },
    { status: code, ...(headers === undefined ? {} : { headers }) }
  )

/**
 * Answers to script: every error shape and safety outcome of the real service.
 *
 * @since 0.1.0
 * @category Replies
 */
export const replies = {
  /** Any `google.rpc.Status` error. */
  error: rpcError,
  /** 429 RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo; optionally a `Retry-After` header. */
  rateLimited: (options: {
    readonly retryDelaySeconds?: number | undefined
    readonly retryAfterSeconds?: number | undefined
    readonly daily?: boolean | undefined
    readonly model?: string | undefined
  } = {}) =>
    rpcError(
      429,
      "RESOURCE_EXHAUSTED",
      "You exceeded your current quota, please check your plan and billing details.",
      [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{
            quotaMetric: "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
            quotaId: options.daily === true
              ? "GenerateRequestsPerDayPerProjectPerModel"
              : "GenerateRequestsPerMinutePerProjectPerModel",
            quotaDimensions: { location: "global", model: options.model ?? "gemini-3.1-flash-image" }
          }]
        },
        ...(options.retryDelaySeconds === undefined ? [] : [{
          "@type": "type.googleapis.com/google.rpc.RetryInfo",
          retryDelay: `${options.retryDelaySeconds}s`
        }])
      ],
      options.retryAfterSeconds === undefined ? undefined : { "retry-after": String(options.retryAfterSeconds) }
    ),
  /** Vertex shared-capacity 429, no details. */
  resourceExhausted: () =>
    rpcError(
      429,
      "RESOURCE_EXHAUSTED",
      "Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
    ),
  /** 503 UNAVAILABLE. */
  unavailable: () => rpcError(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
  /** 500 INTERNAL. */
  internal: () =>
    rpcError(
      500,
      "INTERNAL",
      "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
    ),
  /** 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID. */
  apiKeyInvalid: () =>
    rpcError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [{
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
      metadata: { service: "generativelanguage.googleapis.com" }
    }]),
  /** 403 PERMISSION_DENIED for a request without credentials. */
  unregisteredCaller: () =>
    rpcError(
      403,
      "PERMISSION_DENIED",
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
    ),
  /** 403 PERMISSION_DENIED (IAM). */
  permissionDenied: () =>
    rpcError(
      403,
      "PERMISSION_DENIED",
      "Permission 'aiplatform.endpoints.predict' denied on resource (or it may not exist).",
      [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "IAM_PERMISSION_DENIED",
        domain: "aiplatform.googleapis.com"
      }]
    ),
  /** 401 UNAUTHENTICATED (Vertex, bad or expired token). */
  unauthenticated: () =>
    rpcError(
      401,
      "UNAUTHENTICATED",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
      [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED",
        domain: "googleapis.com"
      }]
    ),
  /** 404 NOT_FOUND for an unknown or shut-down model. */
  notFound: (model: string, version = "v1beta") =>
    rpcError(
      404,
      "NOT_FOUND",
      `models/${model} is not found for API version ${version}, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`
    ),
  /** 400 INVALID_ARGUMENT. */
  invalidArgument: (message: string) => rpcError(400, "INVALID_ARGUMENT", message),
  /** 400 FAILED_PRECONDITION (region or billing). */
  failedPrecondition: () => rpcError(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
  /** 200 with `promptFeedback.blockReason` and no candidates. */
  promptBlocked: (blockReason = "PROHIBITED_CONTENT", model = "gemini-3.1-flash-image") =>
    FakeResponse.json({
      promptFeedback: { blockReason },
      usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
      modelVersion: model,
      responseId: "blocked-prompt-1"
    }),
  /** 200 with a candidate whose `finishReason` is `IMAGE_SAFETY` (or another) and no parts. */
  imageBlocked: (finishReason = "IMAGE_SAFETY", model = "gemini-3.1-flash-image") =>
    FakeResponse.json({
      candidates: [{ content: { role: "model", parts: [] }, finishReason, index: 0 }],
      usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
      modelVersion: model,
      responseId: "blocked-image-1"
    }),
  /** 200 with only a text answer (the model declined, or `NO_IMAGE`). */
  noImage: (text = "I can't create that image.", finishReason = "STOP", model = "gemini-3.1-flash-image") =>
    FakeResponse.json({
      candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason, index: 0 }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 8, totalTokenCount: 20 },
      modelVersion: model,
      responseId: "no-image-1"
    }),
  /** Imagen: every image filtered, with `raiFilteredReason`. */
  raiFiltered: (
    reason =
      "Unable to show generated images. All images were filtered out because they violated Vertex AI's usage guidelines. You will not be charged for blocked images. Try rephrasing the prompt. If you think this was an error, send feedback. Support codes: 56562880"
  ) => FakeResponse.json({ predictions: [{ raiFilteredReason: reason }] }),
  /** Imagen: the prompt itself refused by Responsible AI (400 INVALID_ARGUMENT). */
  raiPromptBlocked: () =>
    rpcError(
      400,
      "INVALID_ARGUMENT",
      "Image generation failed with the following error: The prompt could not be submitted. This prompt contains sensitive words that violate Google's Responsible AI practices. Try rephrasing the prompt. If you think this was an error, send feedback. Support codes: 42876398"
    )
}

// ---------------------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------------------

/**
 * A valid greyscale PNG of the given size.
 *
 * @since 0.1.0
 * @category Images
 */
export const png = (width: number, height: number): Uint8Array => FakeImage.png(width, height, 0)

/**
 * A real JPEG of the given size.
 *
 * @since 0.1.0
 * @category Images
 */
export const jpegStub = (width: number, height: number): Uint8Array => FakeImage.jpegImage(width, height, 0)

const geminiBase: Readonly<Record<string, readonly [number, number]>> = {
  "1:1": [1024, 1024],
  "2:3": [832, 1248],
  "3:2": [1248, 832],
  "3:4": [864, 1184],
  "4:3": [1184, 864],
  "4:5": [896, 1152],
  "5:4": [1152, 896],
  "9:16": [768, 1344],
  "16:9": [1344, 768],
  "21:9": [1536, 672],
  "1:4": [512, 2048],
  "4:1": [2048, 512],
  "1:8": [384, 3072],
  "8:1": [3072, 384]
}
const geminiScale: Readonly<Record<string, number>> = { "512": 0.5, "1K": 1, "2K": 2, "4K": 4 }
const imagenBase: Readonly<Record<string, readonly [number, number]>> = {
  "1:1": [1024, 1024],
  "3:4": [896, 1280],
  "4:3": [1280, 896],
  "9:16": [768, 1408],
  "16:9": [1408, 768]
}

/**
 * Pixel size the fake answers with for a Gemini aspect ratio and `imageSize`.
 *
 * @since 0.1.0
 * @category Images
 */
export const geminiDimensions = (aspectRatio = "1:1", imageSize = "1K"): { width: number; height: number } => {
  const [w, h] = geminiBase[aspectRatio] ?? [1024, 1024]
  const s = geminiScale[imageSize] ?? 1
  return { width: Math.round(w * s), height: Math.round(h * s) }
}

/**
 * Pixel size of Imagen 4 output for an aspect ratio and `sampleImageSize`.
 *
 * @since 0.1.0
 * @category Images
 */
export const imagenDimensions = (aspectRatio = "1:1", size = "1K"): { width: number; height: number } => {
  const [w, h] = imagenBase[aspectRatio] ?? [1024, 1024]
  const s = size.toUpperCase() === "2K" ? 2 : 1
  return { width: w * s, height: h * s }
}

// ---------------------------------------------------------------------------------------------------------
// Model facts
// ---------------------------------------------------------------------------------------------------------

const ratios10 = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
const geminiFacts = (model: string) => {
  const id = model.replace(/-preview$/, "")
  if (id.startsWith("gemini-3.1-flash-image")) {
    return {
      ratios: [...ratios10, "1:4", "4:1", "1:8", "8:1"],
      sizes: ["512", "1K", "2K", "4K"],
      maxInputs: 14,
      inputTokens: 560,
      outputTokens: (size: string) =>
        ({ "512": 747, "1K": 1120, "2K": 1680, "4K": 2520 } as Record<string, number>)[size] ?? 1120
    }
  }
  if (id.startsWith("gemini-3-pro-image")) {
    return {
      ratios: ratios10,
      sizes: ["1K", "2K", "4K"],
      maxInputs: 14,
      inputTokens: 560,
      outputTokens: (size: string) => (size === "4K" ? 2000 : 1120)
    }
  }
  return { ratios: ratios10, sizes: ["1K"], maxInputs: 3, inputTokens: 258, outputTokens: () => 1290 }
}

const imagenRatios = ["1:1", "3:4", "4:3", "9:16", "16:9"]

// ---------------------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------------------

/** snake_case keys to camelCase, recursively (proto3 JSON accepts both). */
const camelize = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(camelize)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), camelize(v)])
  )
}

const rec = (u: unknown): Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? u as Record<string, unknown> : {}

type Surface = "studio" | "vertex" | "express"

const versions = new Set(["v1", "v1beta", "v1beta1", "v1alpha"])

/**
 * Starts the fake.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServer.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const apiKeys = options.apiKeys ?? ["test-gemini-key"]
    const vertexKeys = options.vertexApiKeys ?? ["test-vertex-key"]
    const staticTokens = options.accessTokens ?? ["test-access-token"]
    const models = options.models ?? defaultModels
    const retired = options.retiredModels ?? defaultRetiredModels
    const issued = yield* Ref.make<ReadonlyArray<string>>([])
    const counter = yield* Ref.make(0)
    const nextId = Ref.modify(counter, (n) => [n + 1, n + 1] as const)

    const authorize = (surface: Surface, request: FakeRequest.FakeRequest) =>
      Effect.gen(function*() {
        const key = request.headers["x-goog-api-key"] ?? request.query["key"]
        if (surface === "studio") {
          if (key === undefined) return replies.unregisteredCaller()
          return apiKeys.includes(key) ? undefined : replies.apiKeyInvalid()
        }
        if (key !== undefined) return vertexKeys.includes(key) ? undefined : replies.apiKeyInvalid()
        if (surface === "express") return replies.unauthenticated()
        const auth = request.headers["authorization"]
        const bearer = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined
        if (bearer === undefined) return replies.unauthenticated()
        const tokens = yield* Ref.get(issued)
        return staticTokens.includes(bearer) || tokens.includes(bearer) ? undefined : replies.unauthenticated()
      })

    const modelCheck = (request: FakeRoute.RouteRequest, surface: Surface, method: string) => {
      const model = request.params["model"] ?? ""
      const version = request.params["version"] ?? ""
      if (!versions.has(version)) {
        return FakeResponse.json({ error: { code: 404, message: `Not found: ${request.path}`, status: "NOT_FOUND" } }, {
          status: 404
        })
      }
      const imagen = model.startsWith("imagen-")
      if (retired.includes(model) || !models.includes(model) || (surface === "studio" && imagen)) {
        return replies.notFound(model, version)
      }
      if (surface === "vertex" && model.startsWith("gemini-3") && options.gemini3GlobalOnly !== false) {
        const location = request.params["location"]
        if (location !== "global") {
          return rpcError(
            404,
            "NOT_FOUND",
            `Publisher Model \`projects/${
              request.params["project"]
            }/locations/${location}/publishers/google/models/${model}\` was not found or your project does not have access to it.`
          )
        }
      }
      if (method === "predict" && !imagen) {
        return replies.invalidArgument(`Model ${model} does not support the predict method; use generateContent.`)
      }
      if (method !== "predict" && imagen) return replies.notFound(model, version)
      return undefined
    }

    const generateContent = (request: FakeRoute.RouteRequest, surface: Surface, stream: boolean) =>
      Effect.gen(function*() {
        const model = request.params["model"]!
        const parsed = yield* Effect.either(request.json)
        if (Either.isLeft(parsed)) {
          return replies.invalidArgument("Invalid JSON payload received. Unexpected token.")
        }
        const body = rec(camelize(parsed.right))
        const contents = Array.isArray(body["contents"]) ? body["contents"] as ReadonlyArray<unknown> : []
        if (contents.length === 0) {
          return replies.invalidArgument("* GenerateContentRequest.contents: contents is not specified")
        }
        const facts = geminiFacts(model)
        const gen = rec(body["generationConfig"])
        const imageConfig = rec(gen["imageConfig"])
        for (const key of Object.keys(imageConfig)) {
          if (
            !["aspectRatio", "imageSize", "personGeneration", "imageOutputOptions", "prominentPeople"].includes(key)
          ) {
            return replies.invalidArgument(
              `Invalid JSON payload received. Unknown name "${key}" at 'generation_config.image_config': Cannot find field.`
            )
          }
          if (surface === "studio" && key !== "aspectRatio" && key !== "imageSize") {
            return replies.invalidArgument(
              `Invalid JSON payload received. Unknown name "${key}" at 'generation_config.image_config': Cannot find field.`
            )
          }
        }
        const aspectRatio = imageConfig["aspectRatio"] === undefined ? "1:1" : String(imageConfig["aspectRatio"])
        if (!facts.ratios.includes(aspectRatio)) {
          return replies.invalidArgument(
            `Unsupported aspect ratio: ${aspectRatio}. Supported: ${facts.ratios.join(", ")}`
          )
        }
        const imageSize = imageConfig["imageSize"] === undefined ? "1K" : String(imageConfig["imageSize"])
        if (!facts.sizes.includes(imageSize)) {
          return replies.invalidArgument(`Unsupported image size: ${imageSize}. Supported: ${facts.sizes.join(", ")}`)
        }
        const candidateCount = gen["candidateCount"]
        if (candidateCount !== undefined && candidateCount !== 1) {
          return replies.invalidArgument(`Multiple candidates is not enabled for models/${model}`)
        }
        const parts = contents.flatMap((c) => {
          const p = rec(c)["parts"]
          return Array.isArray(p) ? p.map(rec) : []
        })
        const prompt = parts.flatMap((p) => (typeof p["text"] === "string" ? [p["text"]] : [])).join(" ")
        const inputs = parts.filter((p) => p["inlineData"] !== undefined || p["fileData"] !== undefined)
        if (inputs.length > facts.maxInputs) {
          return replies.invalidArgument(`Too many input images: ${inputs.length} (at most ${facts.maxInputs}).`)
        }
        for (const input of inputs) {
          const inline = rec(input["inlineData"])
          const mime = String(inline["mimeType"] ?? rec(input["fileData"])["mimeType"] ?? "")
          if (!/^image\/(png|jpeg|webp|heic|heif)$/.test(mime)) {
            return replies.invalidArgument(`Unsupported MIME type: ${mime}`)
          }
          if (input["inlineData"] !== undefined) {
            const data = inline["data"]
            if (typeof data !== "string" || Either.isLeft(Encoding.decodeBase64(data))) {
              return replies.invalidArgument(
                "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed"
              )
            }
          }
        }
        const modalities = Array.isArray(gen["responseModalities"])
          ? (gen["responseModalities"] as ReadonlyArray<unknown>).map((m) => String(m).toUpperCase())
          : ["TEXT"]
        const id = yield* nextId
        const responseId = `fake-${id.toString(36).padStart(8, "0")}`
        const promptTokens = Math.ceil(prompt.length / 4) + inputs.length * facts.inputTokens
        const base = {
          modelVersion: model,
          responseId,
          ...(surface === "studio" ? {} : { createTime: new Date().toISOString() })
        }
        if (!modalities.includes("IMAGE")) {
          return FakeResponse.json({
            candidates: [{
              content: { role: "model", parts: [{ text: "I can only answer in text." }] },
              finishReason: "STOP",
              index: 0
            }],
            usageMetadata: {
              promptTokenCount: promptTokens,
              candidatesTokenCount: 7,
              totalTokenCount: promptTokens + 7
            },
            ...base
          })
        }
        const outputMime = String(rec(imageConfig["imageOutputOptions"])["mimeType"] ?? "image/png")
        const { height, width } = geminiDimensions(aspectRatio, imageSize)
        const bytes = outputMime === "image/jpeg" ? jpegStub(width, height) : png(width, height)
        const imageTokens = facts.outputTokens(imageSize)
        const thought = options.thoughtImages === true && model.startsWith("gemini-3")
          ? [{ inlineData: { mimeType: "image/png", data: Encoding.encodeBase64(png(64, 64)) }, thought: true }]
          : []
        const response = {
          candidates: [{
            content: {
              role: "model",
              parts: [
                ...(modalities.includes("TEXT") ? [{ text: "Here is your image." }] : []),
                ...thought,
                {
                  inlineData: { mimeType: outputMime, data: Encoding.encodeBase64(bytes) },
                  ...(model.startsWith("gemini-3") ? { thoughtSignature: `sig-${responseId}` } : {})
                }
              ]
            },
            finishReason: "STOP",
            index: 0
          }],
          usageMetadata: {
            promptTokenCount: promptTokens,
            candidatesTokenCount: imageTokens + 5,
            totalTokenCount: promptTokens + imageTokens + 5,
            promptTokensDetails: [
              { modality: "TEXT", tokenCount: promptTokens - inputs.length * facts.inputTokens },
              ...(inputs.length === 0 ? [] : [{ modality: "IMAGE", tokenCount: inputs.length * facts.inputTokens }])
            ],
            candidatesTokensDetails: [{ modality: "IMAGE", tokenCount: imageTokens }, {
              modality: "TEXT",
              tokenCount: 5
            }],
            ...(surface === "studio" ? {} : { trafficType: "ON_DEMAND" })
          },
          ...base
        }
        return stream ? FakeResponse.sse([{ data: JSON.stringify(response) }]) : FakeResponse.json(response)
      })

    const predict = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        const model = request.params["model"]!
        const parsed = yield* Effect.either(request.json)
        if (Either.isLeft(parsed)) return replies.invalidArgument("Invalid JSON payload received.")
        const body = rec(camelize(parsed.right))
        const instances = Array.isArray(body["instances"]) ? (body["instances"] as ReadonlyArray<unknown>).map(rec) : []
        const prompt = instances[0]?.["prompt"]
        if (typeof prompt !== "string" || prompt.trim() === "") {
          return replies.invalidArgument("Image generation failed with the following error: Prompt is required.")
        }
        const params = rec(body["parameters"])
        const count = params["sampleCount"] === undefined ? 1 : Number(params["sampleCount"])
        if (!Number.isInteger(count) || count < 1 || count > 4) {
          return replies.invalidArgument(`sampleCount must be between 1 and 4, got ${String(params["sampleCount"])}.`)
        }
        const aspectRatio = params["aspectRatio"] === undefined ? "1:1" : String(params["aspectRatio"])
        if (!imagenRatios.includes(aspectRatio)) {
          return replies.invalidArgument(`Unsupported aspect ratio: ${aspectRatio}.`)
        }
        const size = params["sampleImageSize"] === undefined ? "1K" : String(params["sampleImageSize"]).toUpperCase()
        const sizes = model.includes("-fast-") ? ["1K"] : ["1K", "2K"]
        if (!sizes.includes(size)) return replies.invalidArgument(`Unsupported sampleImageSize: ${size}.`)
        if (params["seed"] !== undefined && params["addWatermark"] !== false) {
          return replies.invalidArgument("Seed is not supported when watermark is enabled.")
        }
        if (params["negativePrompt"] !== undefined && model.startsWith("imagen-4")) {
          return replies.invalidArgument("Negative prompts are not supported by this model.")
        }
        const mime = String(rec(params["outputOptions"])["mimeType"] ?? "image/png")
        if (mime !== "image/png" && mime !== "image/jpeg") {
          return replies.invalidArgument(`Unsupported mimeType: ${mime}`)
        }
        const { height, width } = imagenDimensions(aspectRatio, size)
        const bytes = Encoding.encodeBase64(mime === "image/jpeg" ? jpegStub(width, height) : png(width, height))
        return FakeResponse.json({
          predictions: Array.from({ length: count }, () => ({
            bytesBase64Encoded: bytes,
            mimeType: mime,
            ...(params["enhancePrompt"] === true ? { prompt: `${prompt} (enhanced)` } : {})
          }))
        })
      })

    const handler =
      (surface: Surface, method: "generateContent" | "streamGenerateContent" | "predict") =>
      (request: FakeRoute.RouteRequest) =>
        Effect.gen(function*() {
          const denied = yield* authorize(surface, request)
          if (denied !== undefined) return denied
          const bad = modelCheck(request, surface, method)
          if (bad !== undefined) return bad
          if (method === "predict") return yield* predict(request)
          return yield* generateContent(request, surface, method === "streamGenerateContent")
        })

    const routesFor = (prefix: string, surface: Surface) => [
      FakeRoute.post(`${prefix}/:model:generateContent`, handler(surface, "generateContent")),
      FakeRoute.post(`${prefix}/:model:streamGenerateContent`, handler(surface, "streamGenerateContent")),
      FakeRoute.post(`${prefix}/:model:predict`, handler(surface, "predict"))
    ]

    const token = FakeRoute.post("/token", (request) =>
      Effect.gen(function*() {
        const form = new URLSearchParams(request.text)
        const grant = form.get("grant_type")
        const ok = (grant === "refresh_token" && (form.get("refresh_token") ?? "") !== "") ||
          (grant === "urn:ietf:params:oauth:grant-type:jwt-bearer" && (form.get("assertion") ?? "") !== "")
        if (!ok) {
          return FakeResponse.json({ error: "invalid_grant", error_description: "Bad Request" }, { status: 400 })
        }
        const n = yield* nextId
        const access = `ya29.fake-${n}`
        yield* Ref.update(issued, (all) => [...all, access])
        return FakeResponse.json({
          access_token: access,
          expires_in: 3599,
          scope: "https://www.googleapis.com/auth/cloud-platform",
          token_type: "Bearer"
        })
      }))

    const server = yield* FakeServer.make({
      routes: [
        token,
        ...routesFor("/:version/models", "studio"),
        ...routesFor("/:version/projects/:project/locations/:location/publishers/google/models", "vertex"),
        ...routesFor("/:version/publishers/google/models", "express")
      ],
      fallback: (request) =>
        Effect.succeed(
          rpcError(404, "NOT_FOUND", `The requested URL ${request.path} was not found on this server.`)
        )
    })

    return FakeGoogle.of({
      server,
      url: server.url,
      tokenUrl: `${server.url}/token`,
      issuedTokens: Ref.get(issued),
      googleAuthOptions: {
        credentials: {
          type: "authorized_user",
          client_id: "fake-client.apps.googleusercontent.com",
          client_secret: "fake-secret",
          refresh_token: "fake-refresh-token"
        },
        clientOptions: { endpoints: { oauth2TokenUrl: `${server.url}/token` } }
      }
    })
  })

/**
 * The fake as a layer (scoped to the layer's lifetime).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options?: Options): Layer.Layer<FakeGoogle, FakeServer.FakeServerError> =>
  Layer.scoped(FakeGoogle, make(options))

/**
 * Scripts the next Gemini calls (any surface) with these replies.
 *
 * @since 0.1.0
 * @category Scripting
 */
export const scriptGenerateContent = (
  fake: Service,
  replies: Iterable<Fault.Reply>
): Effect.Effect<void> => fake.server.script(generateContentRequests, replies)

/**
 * Scripts the next Imagen calls (any surface) with these replies.
 *
 * @since 0.1.0
 * @category Scripting
 */
export const scriptPredict = (fake: Service, replies: Iterable<Fault.Reply>): Effect.Effect<void> =>
  fake.server.script(predictRequests, replies)

/**
 * A faithful fake of Replicate's HTTP API on 127.0.0.1, for tests and offline examples: predictions on
 * both create paths (and deployments) with `Prefer: wait` hold-open and `Cancel-After`, the status
 * progression starting -> processing (with logs, output appearing while still processing) ->
 * succeeded / failed / canceled / aborted, cancel, the files API, output files served by the fake itself
 * (expiring like `replicate.delivery`), safety failures, and Replicate's error shapes (problem+json 401,
 * 402, 404, 422 with `invalid_fields`, 429 with `Retry-After`).
 *
 * @since 0.1.0
 */
import { FakeRequest, FakeResponse, FakeRoute, FakeServer, Fault } from "@image-gen/testing"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Images from "./internal/images.js"
import * as Profiles from "./internal/profiles.js"

/**
 * How a new prediction behaves. Times are from its creation, on the live clock.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Scenario {
  /** Time in `starting` (queued / booting). Default 40 ms. */
  readonly startingMs: number
  /** Time in `processing`. Default 120 ms. */
  readonly processingMs: number
  /** When, into processing, the output files appear (still `processing`). Default half of `processingMs`. */
  readonly outputAtMs?: number | undefined
  /** The final status. Default `succeeded` (`failed` for prompts matching `nsfw`). */
  readonly outcome: "succeeded" | "failed" | "canceled" | "aborted"
  /** The `error` of a failed prediction. Default: a Replicate-style model error. */
  readonly error?: string | undefined
  /** Log lines written evenly during processing. Default: a tqdm-style progress bar. */
  readonly logs?: ReadonlyArray<string> | undefined
  /** The output shape. Default: the model's (an array for flux-schnell/dev/sdxl, a string for pro models). */
  readonly outputShape?: "string" | "array" | undefined
  /** `metrics.predict_time` of a finished prediction, seconds. Default `processingMs / 1000`. */
  readonly predictTime?: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The token the fake accepts (`Authorization: Bearer <token>`). Default `r8_fake_token`. */
  readonly token?: string | undefined
  /** Defaults for new predictions. */
  readonly scenario?: Partial<Scenario> | undefined
  /** Prompts the fake's safety checker refuses (a `failed` prediction with the model's NSFW message). */
  readonly nsfw?: RegExp | undefined
  /** How long output file URLs work (then 404, like an expired `replicate.delivery` URL). Default 1 hour. */
  readonly outputTtl?: Duration.DurationInput | undefined
  /** How long prediction data lives (then `output: null`, `data_removed: true`). Default 1 hour. */
  readonly dataRetention?: Duration.DurationInput | undefined
  /**
   * With `Prefer: wait`, answer as soon as the output files exist, even while the prediction is still
   * `processing` (as Replicate does for file outputs). Default true.
   */
  readonly answerWaitOnOutput?: boolean | undefined
  /** Models that do not exist: 404 on create. Default `["acme/does-not-exist"]`. */
  readonly unknownModels?: ReadonlyArray<string> | undefined
  /** Models whose versions are gone: 422 "Invalid version or not permitted". Default `["acme/retired-model"]`. */
  readonly retiredModels?: ReadonlyArray<string> | undefined
}

/**
 * A prediction as stored by the fake, with what the client sent.
 *
 * @since 0.1.0
 * @category Models
 */
export interface StoredPrediction {
  readonly id: string
  /** `owner/name`, or `deployments/owner/name`. */
  readonly model: string
  readonly version: string
  readonly input: Readonly<Record<string, unknown>>
  readonly webhook: string | undefined
  readonly webhookEventsFilter: ReadonlyArray<string> | undefined
  /** The `Prefer` header of the create call. */
  readonly prefer: string | undefined
  readonly cancelAfterMs: number | undefined
  readonly createdAt: number
  readonly scenario: Scenario
  readonly canceledAt: number | undefined
}

/**
 * A file uploaded through `POST /v1/files`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface StoredFile {
  readonly id: string
  readonly filename: string
  readonly contentType: string
  readonly bytes: Uint8Array
  readonly metadata: unknown
  readonly createdAt: number
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** The underlying fake server: request log, scripts, faults. */
  readonly server: FakeServer.Service
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  /** `http://127.0.0.1:<port>/v1`: pass as the client's `apiUrl` (or `REPLICATE_BASE_URL`). */
  readonly apiUrl: string
  /** The accepted token. */
  readonly token: string
  /** Changes the defaults for predictions created from now on. */
  readonly setScenario: (scenario: Partial<Scenario>) => Effect.Effect<void>
  /** Answers every create with 402 (insufficient credit) while true. */
  readonly setOutOfCredit: (outOfCredit: boolean) => Effect.Effect<void>
  /** Makes the output files of every prediction created so far expired: downloads get 404. */
  readonly expireOutputs: Effect.Effect<void>
  readonly predictions: Effect.Effect<ReadonlyArray<StoredPrediction>>
  readonly files: Effect.Effect<ReadonlyArray<StoredFile>>
  /** The bytes the fake serves for an output format (`png`, `jpg`, `webp`). */
  readonly imageBytes: (format: string) => Uint8Array
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeReplicate
  extends Context.Tag("@image-gen/replicate/testing/FakeReplicate")<FakeReplicate, Service>()
{}

// ---------------------------------------------------------------------------------------------------------
// Replicate's error shapes
// ---------------------------------------------------------------------------------------------------------

const problemHeaders = { "content-type": "application/problem+json" }

/**
 * A problem+json error reply as Replicate sends it.
 *
 * @since 0.1.0
 * @category Faults
 */
export const problem = (
  status: number,
  detail: string,
  extra: Readonly<Record<string, unknown>> & { readonly title?: string | undefined } = {},
  headers: Readonly<Record<string, string>> = {}
): Fault.Fault =>
  Fault.status(status, { body: { ...extra, detail, status }, headers: { ...problemHeaders, ...headers } })

/**
 * Replicate's 429: `{"detail":"Request was throttled. ..."}` with `Retry-After`.
 *
 * @since 0.1.0
 * @category Faults
 */
export const throttled = (retryAfterSeconds = 1): Fault.Fault =>
  Fault.rateLimited({
    retryAfterSeconds,
    headers: problemHeaders,
    body: { detail: `Request was throttled. Your rate limit resets in ~${retryAfterSeconds}s.`, status: 429 }
  })

/**
 * A 5xx as Replicate's edge answers it.
 *
 * @since 0.1.0
 * @category Faults
 */
export const unavailable = (status = 503): Fault.Fault =>
  problem(status, "The service is temporarily unavailable. Please try again later.", { title: "Service Unavailable" })

const unauthenticated = problem(401, "You did not pass a valid authentication token", { title: "Unauthenticated" })

const notFound = problem(404, "The requested resource could not be found.", { title: "Not found" })

const invalid = (fields: ReadonlyArray<{ type: string; field: string; description: string }>) =>
  problem(422, fields.map((f) => `- ${f.field}: ${f.description}`).join("\n") + "\n", {
    title: "Input validation failed",
    invalid_fields: fields
  })

// ---------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------

const defaultScenario: Scenario = { startingMs: 40, processingMs: 120, outcome: "succeeded" }

const defaultLogs = (steps: number): Array<string> => [
  "Using seed: 1234",
  ...Array.from({ length: steps }, (_, i) => {
    const done = i + 1
    const percent = Math.round((done / steps) * 100)
    const bar = "█".repeat(Math.round(percent / 10)).padEnd(10, " ")
    return `${String(percent).padStart(3, " ")}%|${bar}| ${done}/${steps} [00:00<00:00, 8.00it/s]`
  })
]

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
const randomId = (length = 26) =>
  Array.from({ length }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("")

const bytesOf = (base64: string): Uint8Array => Option.getOrThrow(Option.getRight(Encoding.decodeBase64(base64)))

const formats: Readonly<Record<string, { readonly bytes: Uint8Array; readonly mediaType: string }>> = {
  png: { bytes: bytesOf(Images.png), mediaType: "image/png" },
  jpg: { bytes: bytesOf(Images.jpg), mediaType: "image/jpeg" },
  webp: { bytes: bytesOf(Images.webp), mediaType: "image/webp" }
}

const iso = (millis: number) => new Date(millis).toISOString()

type Status = "starting" | "processing" | "succeeded" | "failed" | "canceled" | "aborted"

interface View {
  readonly status: Status
  readonly json: Record<string, unknown>
  readonly terminal: boolean
  readonly hasOutput: boolean
}

/**
 * Builds the fake server. It stops when the scope closes.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServer.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    // Time is read from a live clock: the client on the other side of the socket waits in real time.
    const live = Clock.make()
    const token = options.token ?? "r8_fake_token"
    const nsfw = options.nsfw ?? /\bnsfw\b/i
    const ttlMs = Duration.toMillis(Duration.decode(options.outputTtl ?? Duration.hours(1)))
    const retentionMs = Duration.toMillis(Duration.decode(options.dataRetention ?? Duration.hours(1)))
    const answerOnOutput = options.answerWaitOnOutput ?? true
    const unknownModels = new Set(options.unknownModels ?? ["acme/does-not-exist"])
    const retiredModels = new Set(options.retiredModels ?? ["acme/retired-model"])
    const scenarioRef = yield* Ref.make<Scenario>({ ...defaultScenario, ...options.scenario })
    const outOfCredit = yield* Ref.make(false)
    const expiredBefore = yield* Ref.make(0)
    const predictions = yield* Ref.make(new Map<string, StoredPrediction>())
    const files = yield* Ref.make(new Map<string, StoredFile>())
    let origin = ""

    const authorized = (request: FakeRequest.FakeRequest) => {
      const header = request.headers["authorization"] ?? ""
      return header === `Bearer ${token}` || header === `Token ${token}`
    }

    const outputFormatOf = (stored: StoredPrediction) => {
      const asked = stored.input.output_format
      if (typeof asked === "string" && asked in formats) return asked
      const profile = Profiles.profileOf(stored.model)
      return profile.outputFormats === undefined ? "png" : profile.outputFormats[0] ?? "webp"
    }

    const outputOf = (stored: StoredPrediction): unknown => {
      const profile = Profiles.profileOf(stored.model)
      const shape = stored.scenario.outputShape ?? profile.output
      const ext = outputFormatOf(stored)
      const count = typeof stored.input.num_outputs === "number" ? stored.input.num_outputs : 1
      const url = (i: number) => `${origin}/delivery/${stored.id}/out-${i}.${ext}`
      return shape === "string" ? url(0) : Array.from({ length: count }, (_, i) => url(i))
    }

    /** The prediction as of `now`: a pure function of its creation time, scenario and cancel time. */
    const view = (stored: StoredPrediction, now: number): View => {
      const s = stored.scenario
      const startAt = stored.createdAt + s.startingMs
      const doneAt = startAt + s.processingMs
      const outputAt = startAt + (s.outputAtMs ?? s.processingMs / 2)
      const deadlineAt = stored.cancelAfterMs === undefined ? undefined : stored.createdAt + stored.cancelAfterMs
      const stopAt = Math.min(stored.canceledAt ?? Infinity, deadlineAt ?? Infinity)
      const at = Math.min(now, stopAt)
      let status: Status
      let completedAt: number | undefined
      if (stopAt <= now && stopAt < doneAt) {
        status = stopAt < startAt && stored.canceledAt === undefined ? "aborted" : "canceled"
        completedAt = stopAt
      } else if (now < startAt) {
        status = "starting"
      } else if (now < doneAt) {
        status = "processing"
      } else {
        status = s.outcome
        completedAt = doneAt
      }
      const logs = s.logs ?? defaultLogs(4)
      const processedFraction = at < startAt ? 0 : Math.min(1, (at - startAt) / Math.max(1, s.processingMs))
      const shownLogs = status === "succeeded"
        ? logs
        : logs.slice(0, Math.ceil(processedFraction * logs.length))
      const removed = stored.createdAt + retentionMs <= now
      // A prediction that ends up failing (a safety refusal, a crash) never shows output.
      const hasOutput = (status === "processing" && now >= outputAt && s.outcome === "succeeded") ||
        status === "succeeded"
      const terminal = status !== "starting" && status !== "processing"
      const predictTime = s.predictTime ?? s.processingMs / 1000
      const json: Record<string, unknown> = {
        id: stored.id,
        model: stored.model.replace(/^deployments\//, ""),
        version: stored.version,
        input: removed ? {} : stored.input,
        logs: shownLogs.join("\n") + (shownLogs.length > 0 ? "\n" : ""),
        output: hasOutput && !removed ? outputOf(stored) : null,
        data_removed: removed,
        error: status === "failed" ? s.error ?? "Prediction failed: model error (E1000)" : null,
        status,
        source: "api",
        created_at: iso(stored.createdAt),
        ...(now >= startAt && status !== "aborted" ? { started_at: iso(startAt) } : {}),
        ...(completedAt === undefined ? {} : { completed_at: iso(completedAt) }),
        ...(deadlineAt === undefined ? {} : { deadline: iso(deadlineAt) }),
        ...(stored.webhook === undefined ? {} : { webhook: stored.webhook }),
        ...(stored.webhookEventsFilter === undefined ? {} : { webhook_events_filter: stored.webhookEventsFilter }),
        metrics: terminal && status !== "aborted"
          ? { predict_time: predictTime, total_time: ((completedAt ?? now) - stored.createdAt) / 1000 }
          : {},
        urls: {
          get: `${origin}/v1/predictions/${stored.id}`,
          cancel: `${origin}/v1/predictions/${stored.id}/cancel`,
          web: `https://replicate.com/p/${stored.id}`
        }
      }
      return { status, json, terminal, hasOutput }
    }

    const currentView = (id: string) =>
      Effect.gen(function*() {
        const stored = (yield* Ref.get(predictions)).get(id)
        if (stored === undefined) return Option.none<View>()
        const now = yield* live.currentTimeMillis
        return Option.some(view(stored, now))
      })

    /** Validates a create's input against what the model's schema would accept. */
    const validate = (model: string, input: Record<string, unknown>) => {
      const fields: Array<{ type: string; field: string; description: string }> = []
      if (typeof input.prompt !== "string" || input.prompt === "") {
        fields.push({ type: "required", field: "input", description: "prompt is required" })
      }
      if (!Profiles.isKnown(model)) return fields
      const profile = Profiles.profileOf(model)
      const n = input.num_outputs
      if (n !== undefined) {
        if (profile.numOutputs === undefined) {
          fields.push({
            type: "additional_property_not_allowed",
            field: "input",
            description: "num_outputs is not allowed"
          })
        } else if (typeof n !== "number" || n < 1 || n > profile.numOutputs) {
          fields.push({
            type: "number_lte",
            field: "input.num_outputs",
            description: `Must be less than or equal to ${profile.numOutputs}`
          })
        }
      }
      const ratio = input.aspect_ratio
      if (ratio !== undefined && profile.aspectRatios !== undefined) {
        const allowed = [
          ...profile.aspectRatios,
          ...(profile.size === "custom" ? ["custom"] : []),
          ...(profile.matchInputImage ? ["match_input_image"] : [])
        ]
        if (typeof ratio !== "string" || !allowed.includes(ratio)) {
          fields.push({
            type: "enum",
            field: "input.aspect_ratio",
            description: `input.aspect_ratio must be one of the following: ${allowed.map((r) => `"${r}"`).join(", ")}`
          })
        }
      }
      const format = input.output_format
      if (format !== undefined && profile.outputFormats !== undefined) {
        if (typeof format !== "string" || !profile.outputFormats.includes(format)) {
          fields.push({
            type: "enum",
            field: "input.output_format",
            description: `input.output_format must be one of the following: ${
              profile.outputFormats.map((f) => `"${f}"`).join(", ")
            }`
          })
        }
      }
      if (input.negative_prompt !== undefined && !profile.negativePrompt) {
        fields.push({
          type: "additional_property_not_allowed",
          field: "input",
          description: "negative_prompt is not allowed"
        })
      }
      for (const key of ["width", "height"]) {
        const v = input[key]
        if (v !== undefined && (profile.size === "aspectRatio" || typeof v !== "number" || v < 64 || v > 2048)) {
          fields.push({ type: "number", field: `input.${key}`, description: `${key} is not accepted here` })
        }
      }
      return fields
    }

    const parsePrefer = (request: FakeRequest.FakeRequest): number | undefined => {
      const prefer = request.headers["prefer"]
      if (prefer === undefined) return undefined
      const match = /^\s*wait(?:\s*=\s*(\d+))?\s*$/.exec(prefer)
      if (match === null) return undefined
      return match[1] === undefined ? 60 : Math.min(60, Math.max(1, Number(match[1])))
    }

    const parseCancelAfter = (request: FakeRequest.FakeRequest): number | undefined => {
      const value = request.headers["cancel-after"]
      if (value === undefined) return undefined
      if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
      const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim())
      if (match === null) return undefined
      return ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 1000
    }

    const create = (model: string, versioned: boolean) => (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        if (!authorized(request)) return unauthenticated
        if (yield* Ref.get(outOfCredit)) {
          return problem(
            402,
            "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit. Once you purchase credit, please wait a few minutes before trying again.",
            { title: "Insufficient credit" }
          )
        }
        const body = yield* Effect.either(request.json)
        if (body._tag === "Left" || typeof body.right !== "object" || body.right === null) {
          return problem(400, "The request body is not valid JSON.", { title: "Bad request" })
        }
        const json = body.right as Record<string, unknown>
        let modelName = model
        let version = "hidden"
        if (versioned) {
          const v = json.version
          if (typeof v !== "string" || v === "") {
            return invalid([{ type: "required", field: "version", description: "version is required" }])
          }
          const parts = /^(?:([^/:]+\/[^/:]+):)?([0-9a-f]{64}|[^/:]+\/[^/:]+)$/i.exec(v)
          if (parts === null) {
            return problem(
              422,
              "The specified version does not exist (or perhaps you don't have permission to use it?)",
              {
                title: "Invalid version or not permitted"
              }
            )
          }
          if (parts[2]!.includes("/")) {
            modelName = parts[2]!
          } else {
            version = parts[2]!
            modelName = parts[1] ?? versionOwners.get(version) ?? "community/unknown"
          }
        }
        if (unknownModels.has(modelName)) return notFound
        if (retiredModels.has(modelName)) {
          return problem(
            422,
            "The specified version does not exist (or perhaps you don't have permission to use it?)",
            {
              title: "Invalid version or not permitted"
            }
          )
        }
        if (typeof json.input !== "object" || json.input === null) {
          return invalid([{ type: "required", field: "(root)", description: "input is required" }])
        }
        const input = json.input as Record<string, unknown>
        const fields = validate(modelName, input)
        if (fields.length > 0) return invalid(fields)
        if (json.webhook !== undefined && (typeof json.webhook !== "string" || !/^https?:\/\//.test(json.webhook))) {
          return invalid([{ type: "format", field: "webhook", description: "Does not match format 'uri'" }])
        }
        const base = yield* Ref.get(scenarioRef)
        const prompt = typeof input.prompt === "string" ? input.prompt : ""
        const scenario: Scenario = nsfw.test(prompt)
          ? { ...base, outcome: "failed", error: base.error ?? Profiles.profileOf(modelName).nsfwMessage }
          : base
        const now = yield* live.currentTimeMillis
        const stored: StoredPrediction = {
          id: randomId(),
          model: model.startsWith("deployments/") ? model : modelName,
          version,
          input,
          webhook: typeof json.webhook === "string" ? json.webhook : undefined,
          webhookEventsFilter: Array.isArray(json.webhook_events_filter)
            ? json.webhook_events_filter.map(String)
            : undefined,
          prefer: request.headers["prefer"],
          cancelAfterMs: parseCancelAfter(request),
          createdAt: now,
          scenario,
          canceledAt: undefined
        }
        yield* Ref.update(predictions, (m) => new Map(m).set(stored.id, stored))
        const wait = parsePrefer(request)
        if (wait === undefined) {
          return FakeResponse.json(Option.getOrThrow(yield* currentView(stored.id)).json, { status: 201 })
        }
        // Hold the connection until the prediction finishes (or its files exist), or the window ends.
        const until = now + wait * 1000
        let current = Option.getOrThrow(yield* currentView(stored.id))
        while (!(current.terminal || (answerOnOutput && current.hasOutput))) {
          const t = yield* live.currentTimeMillis
          if (t >= until) break
          yield* Effect.sleep(Duration.millis(Math.min(20, until - t)))
          current = Option.getOrThrow(yield* currentView(stored.id))
        }
        return current.terminal
          ? FakeResponse.json(current.json, { status: 201 })
          : FakeResponse.json(current.json, {
            status: 202,
            headers: { location: `${origin}/v1/predictions/${stored.id}` }
          })
      })

    const versionOwners = new Map<string, string>([
      ["7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc", "stability-ai/sdxl"]
    ])

    const getPrediction = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        if (!authorized(request)) return unauthenticated
        const current = yield* currentView(request.params.id!)
        return Option.match(current, {
          onNone: () => notFound,
          onSome: (v) => FakeResponse.json(v.json)
        })
      })

    const cancelPrediction = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        if (!authorized(request)) return unauthenticated
        const id = request.params.id!
        const current = yield* currentView(id)
        if (Option.isNone(current)) return notFound
        if (!current.value.terminal) {
          const now = yield* live.currentTimeMillis
          yield* Ref.update(predictions, (m) => {
            const stored = m.get(id)!
            return new Map(m).set(id, { ...stored, canceledAt: now })
          })
        }
        return FakeResponse.json(Option.getOrThrow(yield* currentView(id)).json)
      })

    const listPredictions = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        if (!authorized(request)) return unauthenticated
        const all = Array.from((yield* Ref.get(predictions)).keys())
        const views = yield* Effect.forEach(all, currentView)
        return FakeResponse.json({
          next: null,
          previous: null,
          results: views.flatMap((v) => Option.isSome(v) ? [v.value.json] : []).reverse()
        })
      })

    const fileJson = (file: StoredFile) => ({
      id: file.id,
      name: file.filename,
      content_type: file.contentType,
      size: file.bytes.byteLength,
      etag: file.id,
      checksums: { sha256: "0".repeat(64), md5: "0".repeat(32) },
      metadata: file.metadata,
      created_at: iso(file.createdAt),
      expires_at: iso(file.createdAt + 24 * 3600 * 1000),
      urls: { get: `${origin}/v1/files/${file.id}` }
    })

    const uploadFile = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        if (!authorized(request)) return unauthenticated
        const form = yield* Effect.either(FakeRequest.formData(request))
        if (form._tag === "Left") return problem(400, "Expected multipart/form-data.", { title: "Bad request" })
        const content = form.right.get("content")
        if (content === null || typeof content === "string") {
          return invalid([{ type: "required", field: "content", description: "content is required" }])
        }
        const bytes = new Uint8Array(yield* Effect.promise(() => content.arrayBuffer()))
        if (bytes.byteLength > 100 * 1024 * 1024) {
          return problem(413, "Files must be less than 100MB in size", { title: "Request Entity Too Large" })
        }
        const metadataPart = form.right.get("metadata")
        const metadataText = metadataPart === null
          ? "{}"
          : typeof metadataPart === "string"
          ? metadataPart
          : yield* Effect.promise(() => metadataPart.text())
        const metadata = yield* Effect.try(() => JSON.parse(metadataText) as unknown).pipe(
          Effect.orElseSucceed(() => ({}))
        )
        const filenamePart = form.right.get("filename")
        const typePart = form.right.get("type")
        const file: StoredFile = {
          id: randomId(),
          filename: typeof filenamePart === "string" ? filenamePart : content.name,
          contentType: typeof typePart === "string" ? typePart : content.type || "application/octet-stream",
          bytes,
          metadata,
          createdAt: yield* live.currentTimeMillis
        }
        yield* Ref.update(files, (m) => new Map(m).set(file.id, file))
        return FakeResponse.json(fileJson(file), { status: 201 })
      })

    const withFile = (
      request: FakeRoute.RouteRequest,
      f: (file: StoredFile) => Effect.Effect<Fault.Reply>
    ) =>
      Effect.gen(function*() {
        if (!authorized(request)) return unauthenticated
        const file = (yield* Ref.get(files)).get(request.params.id!)
        return file === undefined ? notFound : yield* f(file)
      })

    const delivery = (request: FakeRoute.RouteRequest) =>
      Effect.gen(function*() {
        const id = request.params.id!
        const match = /^out-(\d+)\.(\w+)$/.exec(request.params.file!)
        const stored = (yield* Ref.get(predictions)).get(id)
        const format = match === null ? undefined : formats[match[2]!]
        if (stored === undefined || format === undefined) return FakeResponse.text("Not Found", { status: 404 })
        const now = yield* live.currentTimeMillis
        const v = view(stored, now)
        const expired = stored.createdAt + ttlMs <= now || stored.createdAt < (yield* Ref.get(expiredBefore))
        if (expired || v.json.data_removed === true || !v.hasOutput) {
          return FakeResponse.text("Not Found", { status: 404 })
        }
        return FakeResponse.bytes(format.bytes, { headers: { "content-type": format.mediaType } })
      })

    const server = yield* FakeServer.make({
      routes: [
        FakeRoute.post(
          "/v1/models/:owner/:name/predictions",
          (request) => create(`${request.params.owner}/${request.params.name}`, false)(request)
        ),
        FakeRoute.post(
          "/v1/deployments/:owner/:name/predictions",
          (request) => create(`deployments/${request.params.owner}/${request.params.name}`, false)(request)
        ),
        FakeRoute.post("/v1/predictions", (request) => create("", true)(request)),
        FakeRoute.get("/v1/predictions", listPredictions),
        FakeRoute.get("/v1/predictions/:id", getPrediction),
        FakeRoute.post("/v1/predictions/:id/cancel", cancelPrediction),
        FakeRoute.post("/v1/files", uploadFile),
        FakeRoute.get("/v1/files", (request) =>
          authorized(request)
            ? Effect.map(Ref.get(files), (m) =>
              FakeResponse.json({ next: null, previous: null, results: Array.from(m.values()).map(fileJson) }))
            : Effect.succeed(unauthenticated)),
        FakeRoute.get(
          "/v1/files/:id",
          (request) => withFile(request, (file) => Effect.succeed(FakeResponse.json(fileJson(file))))
        ),
        FakeRoute.get(
          "/v1/files/:id/download",
          (request) =>
            withFile(
              request,
              (file) =>
                Effect.succeed(FakeResponse.bytes(file.bytes, { headers: { "content-type": file.contentType } }))
            )
        ),
        FakeRoute.del("/v1/files/:id", (request) =>
          withFile(request, (file) =>
            Effect.as(
              Ref.update(files, (m) => {
                const next = new Map(m)
                next.delete(file.id)
                return next
              }),
              FakeResponse.empty()
            ))),
        FakeRoute.get("/delivery/:id/:file", delivery)
      ],
      fallback: notFound
    })
    origin = server.url

    return FakeReplicate.of({
      server,
      url: server.url,
      apiUrl: `${server.url}/v1`,
      token,
      setScenario: (scenario) => Ref.update(scenarioRef, (s) => ({ ...s, ...scenario })),
      setOutOfCredit: (value) => Ref.set(outOfCredit, value),
      expireOutputs: Effect.flatMap(
        live.currentTimeMillis,
        (now) => Ref.set(expiredBefore, now + 1)
      ),
      predictions: Effect.map(Ref.get(predictions), (m) => Array.from(m.values())),
      files: Effect.map(Ref.get(files), (m) => Array.from(m.values())),
      imageBytes: (format) => (formats[format === "jpeg" ? "jpg" : format] ?? formats.png!).bytes
    })
  })

/**
 * The fake as a layer (scoped to the layer's lifetime).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options?: Options): Layer.Layer<FakeReplicate, FakeServer.FakeServerError> =>
  Layer.scoped(FakeReplicate, make(options))

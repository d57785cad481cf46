/**
 * A faithful fake of the Higgsfield platform API (v2) on `127.0.0.1`, for tests and offline examples:
 * `Authorization: Key id:secret` auth (and the legacy `hf-api-key` / `hf-secret` headers), `POST
 * /{model_id}` answering the queued envelope (`status_url`, `cancel_url`), `?hf_webhook=`, `GET
 * /requests/{id}/status` walking each request through scripted statuses (`queued`, `in_progress`,
 * `completed` with `images[]` or `video`, `failed`, `nsfw`, `canceled`), `POST /requests/{id}/cancel` (202
 * while queued, 400 after), upload URLs with a PUT target, result files served by the fake (expirable),
 * and error bodies in Higgsfield's shapes (`detail` string or FastAPI array).
 *
 * @since 0.1.0
 */
import { FakeResponse, FakeRoute, FakeServer } from "@image-gen/testing"
import type * as FakeServerError from "@image-gen/testing/FakeServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Samples from "./internal/samples.js"

/**
 * One status answer of a request.
 *
 * @since 0.1.0
 * @category Models
 */
export interface StatusStep {
  readonly status: string
  readonly error?: string | undefined
  /** Answer this step with a bare HTTP status and `{"detail": ...}` instead. */
  readonly httpStatus?: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Job {
  readonly id: string
  readonly model: string
  readonly body: Record<string, unknown>
  readonly webhook: string | undefined
  readonly steps: ReadonlyArray<StatusStep>
  readonly polls: number
  /** The status last answered (or set by a cancel). */
  readonly status: string
  readonly video: boolean
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Default `hf-test-key`. */
  readonly apiKey?: string | undefined
  /** Default `hf-test-secret`. */
  readonly apiSecret?: string | undefined
  /**
   * The statuses of a request. Default `queued`, `queued`, `in_progress`, `completed`; prompts containing
   * `[nsfw]` or `[failed]` end that way.
   */
  readonly steps?: ((model: string, body: Record<string, unknown>) => ReadonlyArray<StatusStep>) | undefined
  /** Which model ids the fake knows; others get 404. Default: any id. */
  readonly models?: ReadonlyArray<string> | undefined
  /** Images per completed image request. Default 1. */
  readonly imagesPerRequest?: number | undefined
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly server: FakeServer.Service
  readonly url: string
  readonly apiKey: string
  readonly apiSecret: string
  /** `id:secret`, as `HF_CREDENTIALS` expects it. */
  readonly credentials: string
  /** Queues the statuses of the next submission(s). */
  readonly enqueue: (...steps: ReadonlyArray<ReadonlyArray<StatusStep>>) => Effect.Effect<void>
  readonly jobs: Effect.Effect<ReadonlyArray<Job>>
  /** Makes every result URL answer 404 (Higgsfield keeps outputs at least 7 days, then may delete them). */
  readonly expireResults: Effect.Effect<void>
  /** Bytes received on upload URLs, by key. */
  readonly uploads: Effect.Effect<ReadonlyMap<string, { readonly bytes: Uint8Array; readonly contentType: string }>>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class FakeHiggsfield extends Context.Tag("@image-gen/higgsfield/FakeHiggsfield")<FakeHiggsfield, Service>() {}

const videoId = /(^|\/)(dop|video)|image-to-video|text-to-video|kling|seedance|sora|wan|hailuo|minimax|veo/i

const defaultSteps = (_model: string, body: Record<string, unknown>): ReadonlyArray<StatusStep> => {
  const prompt = typeof body.prompt === "string" ? body.prompt : ""
  if (prompt.includes("[nsfw]")) return [{ status: "queued" }, { status: "nsfw" }]
  if (prompt.includes("[failed]")) {
    return [{ status: "in_progress" }, { status: "failed", error: "Generation failed: internal model error" }]
  }
  return [{ status: "queued" }, { status: "queued" }, { status: "in_progress" }, { status: "completed" }]
}

const detail = (status: number, message: string) => FakeResponse.json({ detail: message }, { status })

const validation = (loc: ReadonlyArray<string>, msg: string, type: string) =>
  FakeResponse.json({ detail: [{ loc: ["body", ...loc], msg, type }] }, { status: 422 })

/**
 * Starts the fake.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, FakeServerError.FakeServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const apiKey = options.apiKey ?? "hf-test-key"
    const apiSecret = options.apiSecret ?? "hf-test-secret"
    const jobs = yield* Ref.make(new Map<string, Job>())
    const queued = yield* Ref.make<ReadonlyArray<ReadonlyArray<StatusStep>>>([])
    const uploads = yield* Ref.make(new Map<string, { readonly bytes: Uint8Array; readonly contentType: string }>())
    const expired = yield* Ref.make(false)
    const counter = yield* Ref.make(0)
    const urlRef = yield* Ref.make("")

    const authorized = (headers: Readonly<Record<string, string>>): FakeResponse.FakeResponse | undefined => {
      const auth = headers["authorization"]
      if (auth !== undefined) {
        return auth === `Key ${apiKey}:${apiSecret}` ? undefined : detail(401, "Invalid credentials")
      }
      if (headers["hf-api-key"] !== undefined) {
        return headers["hf-api-key"] === apiKey && headers["hf-secret"] === apiSecret
          ? undefined
          : detail(401, "Invalid credentials")
      }
      return detail(401, "Not authenticated")
    }

    const envelope = (base: string, job: Job, status: string, extra: Record<string, unknown> = {}) => ({
      status,
      request_id: job.id,
      status_url: `${base}/requests/${job.id}/status`,
      cancel_url: `${base}/requests/${job.id}/cancel`,
      ...extra
    })

    const submit: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const denied = authorized(request.headers)
        if (denied !== undefined) return denied
        const model = request.params.model!
        if (options.models !== undefined && !options.models.includes(model)) {
          return detail(404, `Model ${model} not found`)
        }
        const parsed = yield* Effect.either(request.json)
        if (parsed._tag === "Left" || typeof parsed.right !== "object" || parsed.right === null) {
          return validation([], "Input should be a valid dictionary", "dict_type")
        }
        const body = parsed.right as Record<string, unknown>
        const video = videoId.test(model)
        if (typeof body.prompt !== "string" || body.prompt === "") {
          if (!video) return validation(["prompt"], "Field required", "missing")
        }
        if (video && typeof body.image_url !== "string") {
          return validation(["image_url"], "Field required", "missing")
        }
        if (
          body.aspect_ratio !== undefined && !["9:16", "16:9", "1:1", "4:3", "3:4"].includes(String(body.aspect_ratio))
        ) {
          return validation(["aspect_ratio"], "Input should be '9:16', '16:9', '1:1', '4:3' or '3:4'", "enum")
        }
        if (body.resolution !== undefined && !["720p", "1080p"].includes(String(body.resolution))) {
          return validation(["resolution"], "Input should be '720p' or '1080p'", "enum")
        }
        if (body.seed !== undefined && !Number.isInteger(body.seed)) {
          return validation(["seed"], "Input should be a valid integer", "int_type")
        }
        const n = yield* Ref.updateAndGet(counter, (x) => x + 1)
        const id = `3a8f2d6e-0c4b-4e1f-8f7d-${n.toString(16).padStart(12, "0")}`
        const scripted = yield* Ref.modify(queued, (q) => [q[0], q.slice(1)] as const)
        const job: Job = {
          id,
          model,
          body,
          webhook: request.query.hf_webhook,
          steps: scripted ?? (options.steps ?? defaultSteps)(model, body),
          polls: 0,
          status: "queued",
          video
        }
        yield* Ref.update(jobs, (m) => new Map(m).set(id, job))
        return FakeResponse.json(envelope(yield* Ref.get(urlRef), job, "queued"))
      })

    const status: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const denied = authorized(request.headers)
        if (denied !== undefined) return denied
        const job = (yield* Ref.get(jobs)).get(request.params.id!)
        if (job === undefined) return detail(404, "Request not found")
        const base = yield* Ref.get(urlRef)
        const step = job.steps[Math.min(job.polls, job.steps.length - 1)]!
        yield* Ref.update(jobs, (m) => new Map(m).set(job.id, { ...job, polls: job.polls + 1, status: step.status }))
        if (step.httpStatus !== undefined) return detail(step.httpStatus, step.error ?? step.status)
        if (step.status === "completed") {
          const outputs = job.video
            ? { video: { url: `${base}/cdn/${job.id}/video.mp4` } }
            : {
              images: Array.from(
                { length: options.imagesPerRequest ?? 1 },
                (_, i) => ({ url: `${base}/cdn/${job.id}/${i}.png` })
              )
            }
          return FakeResponse.json(envelope(base, job, "completed", outputs))
        }
        if (step.status === "failed") {
          return FakeResponse.json(envelope(base, job, "failed", step.error === undefined ? {} : { error: step.error }))
        }
        return FakeResponse.json(envelope(base, job, step.status))
      })

    const cancel: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const denied = authorized(request.headers)
        if (denied !== undefined) return denied
        const job = (yield* Ref.get(jobs)).get(request.params.id!)
        if (job === undefined) return detail(404, "Request not found")
        if (job.status !== "queued") return detail(400, `Request cannot be canceled in status ${job.status}`)
        yield* Ref.update(jobs, (m) =>
          new Map(m).set(job.id, {
            ...job,
            status: "canceled",
            polls: Math.max(job.polls, 1),
            steps: [{ status: "canceled" }]
          }))
        return FakeResponse.json({ status: "canceled", request_id: job.id }, { status: 202 })
      })

    const uploadUrl: FakeRoute.Handler = (request) =>
      Effect.gen(function*() {
        const denied = authorized(request.headers)
        if (denied !== undefined) return denied
        const parsed = yield* Effect.either(request.json)
        const contentType = parsed._tag === "Right" && typeof parsed.right === "object" && parsed.right !== null
          ? (parsed.right as { content_type?: unknown }).content_type
          : undefined
        if (typeof contentType !== "string") return validation(["content_type"], "Field required", "missing")
        const n = yield* Ref.updateAndGet(counter, (x) => x + 1)
        const key = `upload-${n}`
        const base = yield* Ref.get(urlRef)
        return FakeResponse.json({
          upload_url: `${base}/upload/${key}?X-Amz-Signature=fake`,
          public_url: `${base}/cdn/uploads/${key}`
        })
      })

    const server = yield* FakeServer.make({
      routes: [
        FakeRoute.get("/requests/:id/status", status),
        FakeRoute.post("/requests/:id/cancel", cancel),
        FakeRoute.post("/files/generate-upload-url", uploadUrl),
        FakeRoute.put("/upload/:key", (request) =>
          Effect.as(
            Ref.update(uploads, (m) =>
              new Map(m).set(request.params.key!, {
                bytes: request.body,
                contentType: request.headers["content-type"] ?? "application/octet-stream"
              })),
            FakeResponse.empty({ status: 200 })
          )),
        FakeRoute.get("/cdn/uploads/:key", (request) =>
          Effect.map(Ref.get(uploads), (m) => {
            const file = m.get(request.params.key!)
            return file === undefined
              ? detail(404, "Not found")
              : FakeResponse.bytes(file.bytes, { headers: { "content-type": file.contentType } })
          })),
        FakeRoute.get("/cdn/:id/:file", (request) =>
          Effect.gen(function*() {
            const job = (yield* Ref.get(jobs)).get(request.params.id!)
            if ((yield* Ref.get(expired)) || job === undefined) {
              return FakeResponse.text("<Error><Code>NoSuchKey</Code></Error>", {
                status: 404,
                headers: { "content-type": "application/xml" }
              })
            }
            return job.video
              ? FakeResponse.bytes(Samples.mp4, { headers: { "content-type": "video/mp4" } })
              : FakeResponse.bytes(Samples.png, { headers: { "content-type": "image/png" } })
          })),
        FakeRoute.post("/*model", submit)
      ]
    })
    yield* Ref.set(urlRef, server.url)
    return {
      server,
      url: server.url,
      apiKey,
      apiSecret,
      credentials: `${apiKey}:${apiSecret}`,
      enqueue: (...steps) => Ref.update(queued, (q) => [...q, ...steps]),
      jobs: Effect.map(Ref.get(jobs), (m) => Array.from(m.values())),
      expireResults: Ref.set(expired, true),
      uploads: Ref.get(uploads)
    } satisfies Service
  })

/**
 * The fake as a layer.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<FakeHiggsfield, FakeServerError.FakeServerError> =>
  Layer.scoped(FakeHiggsfield, make(options))

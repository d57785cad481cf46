import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import type * as ImageError from "@image-gen/core/ImageError"
import * as ImageGen from "@image-gen/core/ImageGen"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import type * as Progress from "@image-gen/core/Progress"
import { HiggsfieldClient, HiggsfieldProvider } from "@image-gen/higgsfield"
import * as FakeHiggsfield from "@image-gen/higgsfield/testing"
import { Fault } from "@image-gen/testing"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)
const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const

const setup = (
  fakeOptions: FakeHiggsfield.Options = {},
  providerOptions: HiggsfieldProvider.Options & { readonly secret?: string } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeHiggsfield.make(fakeOptions)
    const client = yield* HiggsfieldClient.make({
      apiKey: Redacted.make(fake.apiKey),
      apiSecret: Redacted.make(providerOptions.secret ?? fake.apiSecret),
      apiUrl: fake.url
    })
    const provider = yield* HiggsfieldProvider.make({
      pollSchedule: Schedule.spaced("20 millis"),
      stepRetry: retry,
      ...providerOptions
    }).pipe(Effect.provideService(HiggsfieldClient.HiggsfieldClient, client))
    const gen = yield* ImageGen.make([provider], { retry })
    return { fake, gen, server: fake.server }
  })

const soul = { method: "POST", path: "/higgsfield-ai/soul/standard" } as const
const statuses = { method: "GET", path: "/requests/:id/status" } as const
const cancels = { method: "POST", path: "/requests/:id/cancel" } as const
const anySubmit = (r: { readonly method: string; readonly path: string }) =>
  r.method === "POST" && !r.path.startsWith("/requests/") && !r.path.startsWith("/files/")

const bodyOf = (server: FakeHiggsfield.Service["server"], filter: Parameters<typeof server.requestsMatching>[0]) =>
  Effect.flatMap(server.requestsMatching(filter), (rs) => Effect.map(rs[0]!.json, (b) => b as Record<string, unknown>))

const photo = new ImageRequest.ImageUrl({ url: "https://example.test/portrait.jpg" })

describe("HiggsfieldProvider", () => {
  it.scopedLive("generates a Soul image: Key id:secret auth, flat v2 body, image URL served by the fake", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const result = yield* gen.generate(
        {
          prompt: "portrait in a sunflower field",
          model: "higgsfield-soul",
          aspectRatio: "16:9",
          resolution: "720p",
          seed: 5
        },
        { download: true }
      )
      assert.deepStrictEqual(yield* bodyOf(server, soul), {
        prompt: "portrait in a sunflower field",
        aspect_ratio: "16:9",
        resolution: "720p",
        seed: 5
      })
      const [submit] = yield* server.requestsMatching(soul)
      assert.strictEqual(submit!.headers.authorization, `Key ${fake.apiKey}:${fake.apiSecret}`)
      const [job] = yield* fake.jobs
      assert.strictEqual(result.requestId, job!.id)
      assert.strictEqual(result.provider, "higgsfield")
      assert.strictEqual(result.model, "higgsfield-ai/soul/standard")
      const image = result.images[0]!
      assert.strictEqual(image.mediaType, "image/png")
      assert.match(image.url!, /\/cdn\/.+\/0\.png$/)
      assert.strictEqual(Buffer.from(image.bytes!).subarray(1, 4).toString("latin1"), "PNG")
      // Higgsfield reports no cost: the router estimates it from the catalog.
      assert.strictEqual(result.costUsd, 0.0625)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("size becomes aspect_ratio + resolution; unsupported ratios fail before any call", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* gen.generate({ prompt: "tall", model: "higgsfield-soul-pro", size: "1080x1920" })
      assert.deepStrictEqual(yield* bodyOf(server, { method: "POST", path: "/higgsfield-ai/soul/pro" }), {
        prompt: "tall",
        aspect_ratio: "9:16",
        resolution: "1080p"
      })
      const error = yield* Effect.flip(gen.generate({ prompt: "x", model: "higgsfield-soul", size: "1024x768" }))
      assert.strictEqual(error._tag, "UnsupportedCapability")
      const ratio = yield* Effect.flip(gen.generate({ prompt: "x", model: "higgsfield-soul", aspectRatio: "4:3" }))
      assert.strictEqual(ratio._tag, "UnsupportedCapability")
      const negative = yield* Effect.flip(gen.generate({ prompt: "x", model: "higgsfield-soul", negativePrompt: "y" }))
      assert.strictEqual(negative._tag, "UnsupportedCapability")
      assert.strictEqual(yield* server.count({ method: "POST", path: "*" }), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("DoP image-to-video returns a video/mp4 result through the same job flow", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const result = yield* gen.generate(
        { prompt: "slow dolly in", model: "higgsfield-dop-turbo", images: [photo] },
        { download: true }
      )
      assert.deepStrictEqual(yield* bodyOf(server, { method: "POST", path: "/higgsfield-ai/dop/turbo" }), {
        prompt: "slow dolly in",
        image_url: "https://example.test/portrait.jpg"
      })
      const video = result.images[0]!
      assert.strictEqual(video.mediaType, "video/mp4")
      assert.match(video.url!, /video\.mp4$/)
      assert.strictEqual(Buffer.from(video.bytes!).subarray(4, 8).toString("latin1"), "ftyp")
      assert.strictEqual(result.costUsd, 0.25)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("image-to-video requires an image (pre-flight); image bytes are uploaded first", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const missing = yield* Effect.flip(gen.generate({ prompt: "x", model: "higgsfield-kling" }))
      assert.strictEqual(missing._tag, "UnsupportedCapability")
      assert.strictEqual(yield* server.count(), 0)
      const bytes = new Uint8Array([137, 80, 78, 71, 1, 2, 3])
      const result = yield* gen.generate({
        prompt: "the subject turns to camera",
        model: "higgsfield-kling-v2",
        images: [new ImageRequest.ImageBytes({ data: bytes, mediaType: "image/png" })],
        providerOptions: { duration: 5 }
      })
      const body = yield* bodyOf(server, { method: "POST", path: "/kling-video/v2.1/pro/image-to-video" })
      assert.match(String(body.image_url), /\/cdn\/uploads\/upload-/)
      assert.strictEqual(body.duration, 5)
      const uploads = yield* fake.uploads
      const uploaded = Array.from(uploads.values())[0]!
      assert.deepStrictEqual(Array.from(uploaded.bytes), Array.from(bytes))
      assert.strictEqual(uploaded.contentType, "image/png")
      // The pre-signed upload URL gets no credentials.
      const [put] = yield* server.requestsMatching({ method: "PUT", path: "/upload/:key" })
      assert.isUndefined(put!.headers.authorization)
      assert.strictEqual(result.images[0]!.mediaType, "video/mp4")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("webhooks go in ?hf_webhook=", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* gen.generate({ prompt: "hook", model: "higgsfield-soul", webhookUrl: "https://hooks.example.test/hf?a=1" })
      const [job] = yield* fake.jobs
      assert.strictEqual(job!.webhook, "https://hooks.example.test/hf?a=1")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("reports progress: queued, running, completed", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup()
      const events = yield* gen.generateStream({ prompt: "progress", model: "higgsfield-soul" }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray)
      )
      const tags = events.map((e: Progress.ProgressEvent) => e._tag)
      assert.deepStrictEqual(tags, ["Started", "Submitted", "Queued", "Queued", "Running", "Completed"])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a failed status check (503 once) is retried without a second submission", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(statuses, [Fault.status(503, { body: { detail: "Service Unavailable" } })])
      const result = yield* gen.generate({ prompt: "resilient", model: "higgsfield-soul" })
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(yield* server.count(soul), 1)
      assert.strictEqual(yield* server.pendingScripts, 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("nsfw is ContentBlocked (never retried); failed is JobFailed with the provider's message", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const blocked = yield* Effect.flip(gen.generate({ prompt: "x [nsfw]", model: "higgsfield-soul" }))
      assert.strictEqual(blocked._tag, "ContentBlocked")
      assert.strictEqual(yield* server.count(soul), 1)
      const failed = yield* Effect.flip(gen.generate({ prompt: "x [failed]", model: "higgsfield-soul" }))
      assert.strictEqual(failed._tag, "JobFailed")
      assert.include(failed.message, "internal model error")
      assert.strictEqual(yield* server.count(soul), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("interruption while queued cancels the request at Higgsfield (202)", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      yield* fake.enqueue([{ status: "queued" }])
      const fiber = yield* Effect.fork(gen.generate({ prompt: "never mind", model: "higgsfield-soul" }))
      yield* server.awaitCount(statuses, 2)
      yield* Fiber.interrupt(fiber)
      const [cancel] = yield* server.awaitCount(cancels, 1)
      const [job] = yield* fake.jobs
      assert.strictEqual(cancel!.path, `/requests/${job!.id}/cancel`)
      assert.strictEqual(job!.status, "canceled")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("the deadline fails with PollDeadline and tries to cancel (400 once running is tolerated)", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup({}, { deadline: "250 millis" })
      yield* fake.enqueue([{ status: "queued" }], [{ status: "in_progress" }])
      const queued = yield* Effect.flip(gen.generate({ prompt: "slow", model: "higgsfield-soul" }))
      assert.strictEqual(queued._tag, "PollDeadline")
      assert.strictEqual(yield* server.count(cancels), 1)
      const running = yield* Effect.flip(gen.generate({ prompt: "slower", model: "higgsfield-soul" }))
      assert.strictEqual(running._tag, "PollDeadline")
      assert.strictEqual(yield* server.count(cancels), 2)
      const jobs = yield* fake.jobs
      assert.deepStrictEqual(jobs.map((j) => j.status), ["canceled", "in_progress"])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("429 with Retry-After: 1 is honoured on submit", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(soul, [Fault.rateLimited({ retryAfterSeconds: 1, body: { detail: "Too many requests" } })])
      const start = Date.now()
      const result = yield* gen.generate({ prompt: "patience", model: "higgsfield-soul" })
      assert.isAtLeast(Date.now() - start, 950)
      assert.strictEqual(yield* server.count(soul), 2)
      assert.strictEqual(result.attempts, 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("maps errors: 401 names the env vars, 403 credits, 422 field, 5xx unavailable, 404 status = vanished", () =>
    Effect.gen(function*() {
      const { gen: bad } = yield* setup({}, { secret: "wrong" })
      const auth = yield* Effect.flip(bad.generate({ prompt: "x", model: "higgsfield-soul" }))
      assert.strictEqual(auth._tag, "AuthenticationError")
      assert.include(auth.message, "HIGGSFIELD_API_KEY")
      assert.notInclude(auth.message, "wrong")

      const { fake, gen, server } = yield* setup()
      yield* server.script(soul, [Fault.status(403, { body: { detail: "Not enough credits" } })])
      const credits = yield* Effect.flip(gen.generate({ prompt: "x", model: "higgsfield-soul" }))
      assert.strictEqual(credits._tag, "InvalidRequest")
      assert.include(credits.message, "credits")

      const invalid = yield* Effect.flip(
        gen.generate({ prompt: "x", model: "higgsfield-soul", providerOptions: { resolution: "4k" } })
      )
      assert.strictEqual(invalid._tag, "InvalidRequest")
      assert.strictEqual((invalid as ImageError.InvalidRequest).field, "resolution")

      yield* server.script(soul, [Fault.status(500), Fault.status(502), Fault.status(503)])
      const down = yield* Effect.flip(gen.generate({ prompt: "x", model: "higgsfield-soul" }))
      assert.strictEqual(down._tag, "ProviderUnavailable")

      yield* fake.enqueue([{ status: "queued" }, { status: "gone", httpStatus: 404, error: "Request not found" }])
      const vanished = yield* Effect.flip(gen.generate({ prompt: "x", model: "higgsfield-soul" }))
      assert.strictEqual(vanished._tag, "JobFailed")
      assert.include(vanished.message, "vanished")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an expired result URL gives DownloadFailed when downloading", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({ prompt: "keep", model: "higgsfield-soul" })
      assert.isUndefined(result.images[0]!.bytes)
      yield* fake.expireResults
      const error = yield* Effect.flip(gen.generate({ prompt: "late", model: "higgsfield-soul" }, { download: true }))
      assert.strictEqual(error._tag, "DownloadFailed")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("n = 2 runs two requests", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const result = yield* gen.generate({ prompt: "two", model: "higgsfield-soul", n: 2, seed: 9 })
      assert.strictEqual(result.images.length, 2)
      assert.strictEqual(yield* server.count(anySubmit), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("layerConfig reads HIGGSFIELD_API_KEY, HIGGSFIELD_API_SECRET and HIGGSFIELD_BASE_URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make()
      const gen = yield* ImageGen.ImageGen.pipe(
        Effect.provide(
          ImageGen.layer([HiggsfieldProvider.layerConfig({ pollSchedule: Schedule.spaced("20 millis") })], { retry })
            .pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
                new Map([
                  ["HIGGSFIELD_API_KEY", fake.apiKey],
                  ["HIGGSFIELD_API_SECRET", fake.apiSecret],
                  ["HIGGSFIELD_BASE_URL", fake.url]
                ])
              )))
            )
        )
      )
      const result = yield* gen.generate({ prompt: "configured", model: "higgsfield:higgsfield-ai/soul/standard" })
      assert.strictEqual(result.images.length, 1)
    }).pipe(Effect.provide(Live)))
})

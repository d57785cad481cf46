import { assert, describe, it } from "@effect/vitest"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import { FalProvider } from "@image-gen/fal"
import * as FakeFal from "@image-gen/fal/testing"
import * as Fault from "@image-gen/testing/Fault"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { elapsed, setup } from "./utils.js"

const prompt = "a red fox in fresh snow, 35mm photo"

const inputOf = (job: FakeFal.Job | undefined) => job?.input as Record<string, unknown>

describe("FalProvider", () => {
  it.scopedLive("maps every request field and returns images, cost and the request id", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const result = yield* gen.generate({
        prompt,
        model: "fal:flux",
        n: 2,
        size: "1024x768",
        seed: 42,
        outputFormat: "png",
        providerOptions: { num_inference_steps: 8, enable_safety_checker: true }
      })
      const [job] = yield* fake.jobs
      assert.deepStrictEqual(inputOf(job), {
        prompt,
        image_size: { width: 1024, height: 768 },
        num_images: 2,
        seed: 42,
        output_format: "png",
        num_inference_steps: 8,
        enable_safety_checker: true
      })
      assert.strictEqual(job!.endpoint, "fal-ai/flux/dev")
      const requests = yield* server.requests
      const submit = requests.find((r) => r.method === "POST")!
      assert.strictEqual(submit.path, "/queue/fal-ai/flux/dev")
      assert.strictEqual(submit.headers.authorization, "Key test-key")
      assert.strictEqual(submit.headers["content-type"], "application/json")
      // status and result go to owner/alias only
      for (const r of requests.filter((r) => r.method === "GET")) {
        assert.isTrue(r.path.startsWith(`/queue/fal-ai/flux/requests/${job!.requestId}`), r.path)
      }
      assert.strictEqual(result.requestId, job!.requestId)
      assert.strictEqual(result.provider, "fal")
      assert.strictEqual(result.model, "fal-ai/flux/dev")
      assert.strictEqual(result.images.length, 2)
      assert.strictEqual(result.images[0]!.width, 1024)
      assert.strictEqual(result.images[0]!.height, 768)
      assert.strictEqual(result.images[0]!.mediaType, "image/png")
      assert.strictEqual(result.images[0]!.seed, 42)
      assert.isTrue(result.images[0]!.url!.startsWith(`${fake.url}/cdn/files/`))
      assert.closeTo(result.costUsd!, 2 * 0.025, 1e-9)
      assert.strictEqual(result.usage?.units?.megapixels, 2)
      assert.strictEqual(result.usage?.units?.inference_seconds, 0.42)
    }))

  it.scopedLive("aspect ratios become image_size presets, or aspect_ratio + resolution where the model takes them", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* gen.generate({ prompt, model: "flux", aspectRatio: "16:9" })
      yield* gen.generate({ prompt, model: "flux-schnell", aspectRatio: "21:9" })
      yield* gen.generate({ prompt, model: "nb-pro-fal", aspectRatio: "16:9", resolution: "2K" })
      yield* gen.generate({ prompt, model: "fal:nb2-fal", size: "2048x2048" })
      const jobs = yield* fake.jobs
      assert.strictEqual(inputOf(jobs[0]).image_size, "landscape_16_9")
      assert.deepStrictEqual(inputOf(jobs[1]).image_size, { width: 1024, height: 440 })
      assert.strictEqual(inputOf(jobs[2]).aspect_ratio, "16:9")
      assert.strictEqual(inputOf(jobs[2]).resolution, "2K")
      assert.isUndefined(inputOf(jobs[2]).image_size)
      assert.strictEqual(inputOf(jobs[3]).aspect_ratio, "1:1")
      assert.strictEqual(inputOf(jobs[3]).resolution, "2K")
      // a size with a ratio the model lacks fails before any call
      const error = yield* Effect.flip(gen.generate({ prompt, model: "nb-pro-fal", size: "1000x333" }))
      assert.strictEqual(error._tag, "UnsupportedCapability")
      assert.strictEqual((yield* fake.jobs).length, 4)
    }))

  it.scopedLive("any fal model id passes through, with the owner/alias split for status and result", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const result = yield* gen.generate({ prompt, model: "fal:fal-ai/sdxl/lightning", size: "512x512", seed: 7 })
      assert.strictEqual(result.model, "fal-ai/sdxl/lightning")
      const [job] = yield* fake.jobs
      assert.strictEqual(job!.endpoint, "fal-ai/sdxl/lightning")
      assert.deepStrictEqual(inputOf(job).image_size, { width: 512, height: 512 })
      assert.strictEqual(yield* server.count({ path: "/queue/fal-ai/sdxl/requests/*" }), 2)
      yield* gen.generate({ prompt, model: "seedream" })
      const seedream = (yield* fake.jobs)[1]!
      assert.strictEqual(seedream.endpoint, "fal-ai/bytedance/seedream/v4.5/text-to-image")
      assert.strictEqual(seedream.app, "fal-ai/bytedance")
      assert.strictEqual(yield* server.count({ path: `/queue/fal-ai/bytedance/requests/${seedream.requestId}/*` }), 2)
    }))

  it.scopedLive("reports queue position and logs as progress events (SSE status stream)", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({ scenario: { queuePositions: [2, 1, 0], logs: ["loading", "step 1/2"] } })
      const events = Chunk.toReadonlyArray(yield* Stream.runCollect(gen.generateStream({ prompt, model: "flux" })))
      const tags = events.map((e) => e._tag)
      assert.deepStrictEqual(tags[0], "Started")
      assert.deepStrictEqual(tags[1], "Submitted")
      assert.deepStrictEqual(tags[tags.length - 1], "Completed")
      const positions = events.flatMap((e) => (e._tag === "Queued" ? [e.position] : []))
      assert.deepStrictEqual(positions, [2, 1, 0])
      const logs = events.flatMap((e) => (e._tag === "Running" ? e.logs : []))
      assert.deepStrictEqual(logs, ["loading", "step 1/2"])
      assert.strictEqual(yield* server.count(FakeFal.filters.statusStream), 1)
      assert.strictEqual(yield* server.count(FakeFal.filters.status), 0)
      const stream = (yield* server.requestsMatching(FakeFal.filters.statusStream))[0]!
      assert.strictEqual(stream.query.logs, "1")
      assert.strictEqual(stream.headers.accept, "text/event-stream")
    }))

  it.scopedLive("polls (with logs=1) when the status stream is unavailable", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({
        statusStream: false,
        scenario: { queuePositions: [1, 0], logs: ["a", "b"] }
      })
      const events = Chunk.toReadonlyArray(yield* Stream.runCollect(gen.generateStream({ prompt, model: "flux" })))
      assert.deepStrictEqual(events.flatMap((e) => (e._tag === "Queued" ? [e.position] : [])), [1, 0])
      assert.deepStrictEqual(events.flatMap((e) => (e._tag === "Running" ? e.logs : [])), ["a", "b"])
      assert.strictEqual(yield* server.count(FakeFal.filters.status), 5)
      const polls = yield* server.requestsMatching(FakeFal.filters.status)
      assert.isTrue(polls.every((p) => p.query.logs === "1"))
    }))

  it.scopedLive("a status poll failing once with 503 is retried without a second submission", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({}, { stream: false })
      yield* server.script(FakeFal.filters.status, [FakeFal.unavailable(503)])
      const result = yield* gen.generate({ prompt, model: "flux" })
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(result.attempts, 1)
      assert.strictEqual(yield* server.count(FakeFal.filters.submit), 1)
      assert.strictEqual(yield* server.pendingScripts, 0)
    }))

  it.scopedLive("a broken status stream falls back to polling", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(FakeFal.filters.statusStream, [Fault.resetBeforeResponse])
      const result = yield* gen.generate({ prompt, model: "flux" })
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(yield* server.count(FakeFal.filters.submit), 1)
      assert.isAbove(yield* server.count(FakeFal.filters.status), 0)
    }))

  it.scopedLive("interrupting the generation cancels the request at fal (PUT cancel)", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup({
        scenario: { queuePositions: Array.from({ length: 10_000 }, (_, i) => 10_000 - i) }
      }, { stream: false })
      const fiber = yield* Effect.fork(gen.generate({ prompt, model: "flux" }))
      yield* server.awaitCount(FakeFal.filters.status, 2)
      yield* Fiber.interrupt(fiber)
      const [cancel] = yield* server.awaitCount(FakeFal.filters.cancel, 1)
      const [job] = yield* fake.jobs
      assert.strictEqual(cancel!.path, `/queue/fal-ai/flux/requests/${job!.requestId}/cancel`)
      assert.strictEqual(cancel!.headers.authorization, "Key test-key")
      assert.isTrue(job!.cancelled)
    }))

  it.scopedLive("stopping a generateStream cancels too", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({ scenario: { queuePositions: Array.from({ length: 10_000 }, () => 3) } })
      const events = yield* Stream.runCollect(
        gen.generateStream({ prompt, model: "flux" }).pipe(Stream.takeUntil((e) => e._tag === "Queued"))
      )
      assert.isTrue(Chunk.some(events, (e) => e._tag === "Queued"))
      yield* server.awaitCount(FakeFal.filters.cancel, 1)
    }))

  it.scopedLive("the deadline ends with PollDeadline and cancels the request", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup(
        { scenario: { queuePositions: Array.from({ length: 10_000 }, () => 5) } },
        { deadline: "300 millis", stream: false }
      )
      const error = yield* Effect.flip(gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(error._tag, "PollDeadline")
      if (error._tag === "PollDeadline") {
        assert.strictEqual(error.lastStatus, "Queued")
        assert.isDefined(error.requestId)
      }
      assert.strictEqual(yield* server.count(FakeFal.filters.cancel), 1)
      assert.strictEqual(yield* server.count(FakeFal.filters.submit), 1)
    }))

  it.scopedLive("moderation: flagged images are dropped; all flagged, or a content policy error, is ContentBlocked", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      yield* fake.enqueue({ nsfw: [true, false] }, { nsfw: true }, { outcome: FakeFal.contentPolicyViolation() })
      const partial = yield* gen.generate({ prompt, model: "flux", n: 2 })
      assert.strictEqual(partial.images.length, 1)
      const flagged = yield* Effect.flip(gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(flagged._tag, "ContentBlocked")
      const policy = yield* Effect.flip(gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(policy._tag, "ContentBlocked")
      if (policy._tag === "ContentBlocked") assert.isDefined(policy.requestId)
      // never retried
      assert.strictEqual(yield* server.count(FakeFal.filters.submit), 3)
    }))

  it.scopedLive("nsfw: block fails on any flagged image", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({}, { nsfw: "block" })
      yield* fake.enqueue({ nsfw: [false, true] })
      const error = yield* Effect.flip(gen.generate({ prompt, model: "flux", n: 2 }))
      assert.strictEqual(error._tag, "ContentBlocked")
    }))

  it.scopedLive(
    "a COMPLETED request whose result fails is a job failure, never a success or a resubmission",
    () =>
      Effect.gen(function*() {
        const { fake, gen, server } = yield* setup()
        yield* fake.enqueue(
          { outcome: FakeFal.runnerError() },
          { outcome: FakeFal.resultFails(500) },
          {
            outcome: FakeFal.validationError([{
              loc: ["body", "image_size", "width"],
              msg: "too wide",
              type: "less_than_equal"
            }])
          }
        )
        const runner = yield* Effect.flip(gen.generate({ prompt, model: "flux" }))
        assert.strictEqual(runner._tag, "JobFailed")
        assert.include(runner.message, "runner_disconnected")
        assert.strictEqual(yield* server.count(FakeFal.filters.result), 1)
        const failing = yield* Effect.flip(gen.generate({ prompt, model: "flux" }))
        assert.strictEqual(failing._tag, "JobFailed")
        assert.isAbove(yield* server.count(FakeFal.filters.result), 2)
        const invalid = yield* Effect.flip(gen.generate({ prompt, model: "flux" }))
        assert.strictEqual(invalid._tag, "InvalidRequest")
        if (invalid._tag === "InvalidRequest") {
          assert.strictEqual(invalid.field, "image_size.width")
          assert.strictEqual(invalid.status, 422)
        }
        assert.strictEqual(yield* server.count(FakeFal.filters.submit), 3)
      }),
    { timeout: 20_000 }
  )

  it.scopedLive("an expired result is a JobFailed that says so; expired media is DownloadFailed", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.enqueue({ resultTtl: 0 }, { mediaTtl: 0 })
      const gone = yield* Effect.flip(gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(gone._tag, "JobFailed")
      assert.include(gone.message, "result is gone")
      const media = yield* Effect.flip(gen.generate({ prompt, model: "flux" }, { download: true }))
      assert.strictEqual(media._tag, "DownloadFailed")
    }))

  it.scopedLive("downloads the result bytes the fake serves", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup()
      const result = yield* gen.generate({ prompt, model: "flux", size: "64x48" }, { download: true })
      const bytes = Buffer.from(result.images[0]!.bytes!)
      assert.strictEqual(bytes.subarray(1, 4).toString("latin1"), "PNG")
      assert.strictEqual(bytes.readUInt32BE(16), 64)
      assert.strictEqual(bytes.readUInt32BE(20), 48)
    }))

  it.scopedLive("error mapping at submit: 401, missing key, unknown endpoint, 5xx, 429", () =>
    Effect.gen(function*() {
      const wrongKey = yield* setup({ apiKey: "right" })
      const auth = yield* Effect.flip(wrongKey.gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(auth._tag, "AuthenticationError")
      if (auth._tag === "AuthenticationError") assert.strictEqual(auth.keyName, "FAL_KEY")
      assert.notInclude(auth.message, "test-key")

      const noKey = yield* setup({}, { apiKey: null })
      const missing = yield* Effect.flip(noKey.gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(missing._tag, "AuthenticationError")
      assert.strictEqual(yield* noKey.server.count(), 0)

      const gone = yield* setup({ missingEndpoints: { "fal-ai/old-model": "Application 'old-model' not found" } })
      const unknown = yield* Effect.flip(gone.gen.generate({ prompt, model: "fal:fal-ai/old-model" }))
      assert.strictEqual(unknown._tag, "InvalidRequest")
      assert.include(unknown.message, "not found")

      const down = yield* setup()
      yield* down.server.script(FakeFal.filters.submit, [
        FakeFal.unavailable(503),
        FakeFal.unavailable(502, "runner_incomplete_response"),
        FakeFal.unavailable(503)
      ])
      const unavailable = yield* Effect.flip(down.gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(unavailable._tag, "ProviderUnavailable")
      assert.strictEqual(yield* down.server.count(FakeFal.filters.submit), 3)

      const limited = yield* setup()
      yield* limited.server.script(FakeFal.filters.submit, [FakeFal.rateLimited(), FakeFal.rateLimited()])
      yield* limited.server.script(FakeFal.filters.submit, [FakeFal.rateLimited()])
      const rate = yield* Effect.flip(limited.gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(rate._tag, "RateLimited")
    }))

  it.scopedLive("honours Retry-After on a 429 (two submissions, about a second apart)", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(FakeFal.filters.submit, [FakeFal.rateLimited(1)])
      const [result, ms] = yield* elapsed(gen.generate({ prompt, model: "flux" }))
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(yield* server.count(FakeFal.filters.submit), 2)
      assert.isAtLeast(ms, 950)
      const submits = yield* server.requestsMatching(FakeFal.filters.submit)
      assert.isAtLeast(submits[1]!.receivedAt - submits[0]!.receivedAt, 950)
    }))

  it.scopedLive("edits: bytes are uploaded through fal storage, URLs pass through, the edit endpoint is used", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const png = FakeFal.renderPng(4, 4, [255, 0, 0])
      yield* gen.generate({
        prompt: "make it blue",
        model: "nb-pro-fal",
        images: [
          new ImageRequest.ImageBytes({ data: png, mediaType: "image/png", name: "red.png" }),
          new ImageRequest.ImageUrl({ url: "https://example.test/cat.jpg" })
        ]
      })
      const [job] = yield* fake.jobs
      assert.strictEqual(job!.endpoint, "fal-ai/nano-banana-pro/edit")
      assert.strictEqual(job!.app, "fal-ai/nano-banana-pro")
      const urls = inputOf(job).image_urls as Array<string>
      assert.strictEqual(urls.length, 2)
      assert.strictEqual(urls[1], "https://example.test/cat.jpg")
      const uploads = yield* fake.uploads
      const uploaded = uploads.get(urls[0]!)
      assert.isDefined(uploaded)
      assert.deepStrictEqual(Buffer.from(uploaded!.bytes), Buffer.from(png))
      assert.strictEqual(uploaded!.contentType, "image/png")
      const [initiate] = yield* server.requestsMatching(FakeFal.filters.uploadInitiate)
      assert.strictEqual(initiate!.query.storage_type, "fal-cdn-v3")
      assert.deepStrictEqual(yield* initiate!.json, { content_type: "image/png", file_name: "red.png" })
      const [put] = yield* server.requestsMatching(FakeFal.filters.uploadPut)
      assert.isUndefined(put!.headers.authorization)

      // flux dev edits go to image-to-image with image_url; unknown ids get both fields
      yield* gen.generate({
        prompt,
        model: "flux",
        images: [new ImageRequest.ImageUrl({ url: "https://example.test/a.png" })]
      })
      const flux = (yield* fake.jobs)[1]!
      assert.strictEqual(flux.endpoint, "fal-ai/flux/dev/image-to-image")
      assert.strictEqual(inputOf(flux).image_url, "https://example.test/a.png")
      // a model without editing is refused before any call
      const refused = yield* Effect.flip(
        gen.generate({
          prompt,
          model: "flux-schnell",
          images: [new ImageRequest.ImageUrl({ url: "https://example.test/a.png" })]
        })
      )
      assert.strictEqual(refused._tag, "UnsupportedCapability")
    }))

  it.scopedLive("inputImages: dataUrl inlines bytes instead of uploading", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup({}, { inputImages: "dataUrl" })
      yield* gen.generate({
        prompt,
        model: "fal:fal-ai/some/editor",
        images: [new ImageRequest.ImageBytes({ data: new Uint8Array([1, 2, 3]), mediaType: "image/png" })]
      })
      const [job] = yield* fake.jobs
      assert.strictEqual(inputOf(job).image_url, "data:image/png;base64,AQID")
      assert.deepStrictEqual(inputOf(job).image_urls, ["data:image/png;base64,AQID"])
      assert.strictEqual(yield* server.count(FakeFal.filters.uploadInitiate), 0)
    }))

  it.scopedLive("webhooks, negative prompt, quality and per-model cost", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const result = yield* gen.generate({
        prompt,
        model: "ideogram",
        negativePrompt: "blurry",
        quality: "quality",
        n: 2,
        webhookUrl: "https://hooks.example.test/fal?x=1"
      })
      const [job] = yield* fake.jobs
      assert.strictEqual(job!.webhookUrl, "https://hooks.example.test/fal?x=1")
      const [submit] = yield* server.requestsMatching(FakeFal.filters.submit)
      assert.strictEqual(submit!.query.fal_webhook, "https://hooks.example.test/fal?x=1")
      assert.strictEqual(inputOf(job).negative_prompt, "blurry")
      assert.strictEqual(inputOf(job).rendering_speed, "QUALITY")
      assert.closeTo(result.costUsd!, 0.18, 1e-9)
      // a negative prompt on a model without one is refused before any call
      const refused = yield* Effect.flip(gen.generate({ prompt, model: "flux", negativePrompt: "x" }))
      assert.strictEqual(refused._tag, "UnsupportedCapability")
      // recraft: one image per call, the router splits n
      const recraft = yield* gen.generate({ prompt, model: "recraft", n: 2, outputFormat: "svg" })
      assert.strictEqual(recraft.images.length, 2)
      const jobs = (yield* fake.jobs).slice(1)
      assert.strictEqual(jobs.length, 2)
      assert.strictEqual(inputOf(jobs[0]).style, "vector_illustration")
      assert.isUndefined(inputOf(jobs[0]).num_images)
    }))

  it("the catalog decodes and carries the shorthands", () => {
    const ids = new Map(FalProvider.catalog.models.flatMap((m) => m.shorthands.map((s) => [s, m.id] as const)))
    assert.strictEqual(ids.get("flux"), "fal-ai/flux/dev")
    assert.strictEqual(ids.get("flux-schnell"), "fal-ai/flux/schnell")
    assert.strictEqual(ids.get("flux-pro"), "fal-ai/flux-pro")
    assert.strictEqual(ids.get("flux2-pro"), "fal-ai/flux-2-pro")
    assert.strictEqual(ids.get("flux2-dev-turbo"), "fal-ai/flux-2-dev-turbo")
    assert.strictEqual(ids.get("seedream"), "fal-ai/bytedance/seedream/v4.5/text-to-image")
    assert.strictEqual(ids.get("ideogram"), "fal-ai/ideogram/v3")
    assert.strictEqual(ids.get("recraft"), "fal-ai/recraft-v3")
    assert.strictEqual(ids.get("nb2-fal"), "fal-ai/nano-banana-2")
    assert.strictEqual(ids.get("nb-pro-fal"), "fal-ai/nano-banana-pro")
    assert.strictEqual(ids.get("imagen4-fal"), "fal-ai/imagen4/preview")
    assert.strictEqual(FalProvider.catalog.provider, "fal")
  })
})

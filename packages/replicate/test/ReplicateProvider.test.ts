import { assert, describe, it } from "@effect/vitest"
import * as Catalog from "@image-gen/core/Catalog"
import type * as ImageError from "@image-gen/core/ImageError"
import * as ImageGen from "@image-gen/core/ImageGen"
import { ImageBytes, ImageUrl } from "@image-gen/core/ImageRequest"
import type * as Progress from "@image-gen/core/Progress"
import { ReplicateProvider } from "@image-gen/replicate"
import * as FakeReplicate from "@image-gen/replicate/testing"
import { Fault } from "@image-gen/testing"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import {
  bodyOf,
  cancelFilter,
  createFilter,
  filesFilter,
  getFilter,
  Live,
  setup,
  versionCreateFilter
} from "./utils.js"

const fast = { pollSchedule: Schedule.spaced(Duration.millis(25)) }
const prompt = "a lighthouse at dusk, watercolor"

const failure = <A>(effect: Effect.Effect<A, ImageError.ImageError>) =>
  Effect.flip(effect).pipe(Effect.map((e): ImageError.ImageError => e))

describe("ReplicateProvider", () => {
  it("ships a catalog that decodes, with distinct shorthands and a default model", () => {
    const catalog = ReplicateProvider.catalog
    assert.strictEqual(catalog.provider, "replicate")
    assert.strictEqual(catalog.defaultModel, "black-forest-labs/flux-schnell")
    const shorthands = catalog.models.flatMap((m) => m.shorthands)
    assert.strictEqual(new Set(shorthands).size, shorthands.length)
    assert.isTrue(shorthands.every((s) => s.endsWith("-replicate")))
    const resolved = Effect.runSync(
      Catalog.resolve(Catalog.merge(Catalog.empty, catalog), "flux-2-pro-replicate", ["replicate"])
    )
    assert.strictEqual(resolved.model, "black-forest-labs/flux-2-pro")
  })

  it.scopedLive("maps the request onto flux-schnell's input and finishes in one Prefer: wait round trip", () =>
    Effect.gen(function*() {
      // Answer only when finished (with the default, the fake may answer `processing` with output early).
      const { fake, gen } = yield* setup({ answerWaitOnOutput: false })
      const result = yield* gen.generate({
        prompt,
        model: "flux-schnell-replicate",
        n: 3,
        aspectRatio: "16:9",
        seed: 42,
        outputFormat: "jpeg",
        providerOptions: { go_fast: true, num_inference_steps: 4 }
      })
      assert.strictEqual(result.provider, "replicate")
      assert.strictEqual(result.model, "black-forest-labs/flux-schnell")
      assert.strictEqual(result.images.length, 3)
      for (const image of result.images) {
        assert.strictEqual(image.mediaType, "image/jpeg")
        assert.deepStrictEqual(image.bytes, fake.imageBytes("jpg"))
        assert.match(image.url!, /\/delivery\/\w+\/out-\d\.jpg$/)
      }
      assert.strictEqual(result.costUsd, 0.009)
      assert.strictEqual(result.usage?.units?.images, 3)
      const creates = yield* fake.server.requestsMatching(createFilter)
      assert.strictEqual(creates.length, 1)
      assert.strictEqual(creates[0]!.path, "/v1/models/black-forest-labs/flux-schnell/predictions")
      assert.strictEqual(creates[0]!.headers.authorization, `Bearer ${fake.token}`)
      assert.strictEqual(creates[0]!.headers.prefer, "wait=10")
      const body = yield* bodyOf(creates[0])
      assert.deepStrictEqual(body.input, {
        prompt,
        num_outputs: 3,
        aspect_ratio: "16:9",
        seed: 42,
        output_format: "jpg",
        go_fast: true,
        num_inference_steps: 4
      })
      assert.isUndefined(body.version)
      // Finished inside the wait window: no status poll at all.
      assert.strictEqual(yield* fake.server.count(getFilter), 0)
      const [stored] = yield* fake.predictions
      assert.strictEqual(result.requestId, stored!.id)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("sends a versioned model to POST /predictions with its version, width/height and negative prompt", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ scenario: { predictTime: 4 } })
      const result = yield* gen.generate({
        prompt,
        model: "sdxl-replicate",
        n: 2,
        size: "1152x896",
        negativePrompt: "blurry",
        seed: 7
      })
      const creates = yield* fake.server.requestsMatching(versionCreateFilter)
      assert.strictEqual(creates.length, 1)
      const body = yield* bodyOf(creates[0])
      assert.strictEqual(body.version, "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc")
      assert.deepStrictEqual(body.input, {
        prompt,
        num_outputs: 2,
        width: 1152,
        height: 896,
        seed: 7,
        negative_prompt: "blurry"
      })
      assert.strictEqual(result.images.length, 2)
      assert.strictEqual(result.images[0]!.mediaType, "image/png")
      assert.strictEqual(result.images[0]!.width, 1152)
      // Billed by GPU time: predict_time x the per-second price.
      assert.strictEqual(result.costUsd, 4 * 0.000975)
      assert.strictEqual(result.usage?.units?.predict_time_seconds, 4)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("accepts a bare 64-hex version id and owner/name:version addresses", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const version = "a".repeat(64)
      yield* gen.generate({ prompt, model: `replicate:${version}` })
      yield* gen.generate({ prompt, model: `replicate:acme/painter:${"b".repeat(64)}`, n: 2 })
      const creates = yield* fake.server.requestsMatching(versionCreateFilter)
      assert.strictEqual(creates.length, 2)
      assert.strictEqual((yield* bodyOf(creates[0])).version, version)
      const second = yield* bodyOf(creates[1])
      assert.strictEqual(second.version, "b".repeat(64))
      assert.strictEqual(second.input.num_outputs, 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("converts sizes: exact ratio for aspect-only models, custom width/height for pro, MP for FLUX.2", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* gen.generate({ prompt, model: "flux-schnell-replicate", size: "1024x768" })
      yield* gen.generate({ prompt, model: "flux-1.1-pro-replicate", size: "1024x768" })
      yield* gen.generate({ prompt, model: "flux-2-pro-replicate", aspectRatio: "3:2", resolution: "2K" })
      const bodies = yield* Effect.forEach(yield* fake.server.requestsMatching(createFilter), bodyOf)
      assert.deepStrictEqual(bodies.map((b) => b.input), [
        { prompt, num_outputs: 1, aspect_ratio: "4:3" },
        { prompt, aspect_ratio: "custom", width: 1024, height: 768 },
        { prompt, aspect_ratio: "3:2", resolution: "4 MP" }
      ])
      // A size whose ratio the model cannot make fails before any call.
      const error = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate", size: "1000x700" }))
      assert.strictEqual(error._tag, "UnsupportedCapability")
      // The catalog refuses what the model does not take, before any call.
      const negative = yield* failure(
        gen.generate({ prompt, model: "flux-dev-replicate", negativePrompt: "blurry" })
      )
      assert.strictEqual(negative._tag, "UnsupportedCapability")
      assert.strictEqual(yield* fake.server.count(createFilter), 3)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("splits n above the model's num_outputs limit into several predictions", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const result = yield* gen.generate({ prompt, model: "flux-schnell-replicate", n: 6 })
      assert.strictEqual(result.images.length, 6)
      const counts = yield* Effect.forEach(
        yield* fake.server.requestsMatching(createFilter),
        (r) => Effect.map(bodyOf(r), (b) => b.input.num_outputs as number)
      )
      assert.deepStrictEqual(counts.sort(), [2, 4])
      // A one-image model (string output) gets one prediction per image.
      const pro = yield* gen.generate({ prompt, model: "flux-1.1-pro-replicate", n: 2 })
      assert.strictEqual(pro.images.length, 2)
      assert.strictEqual(pro.costUsd, 0.08)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("uploads ImageBytes through POST /files and passes ImageUrl through as given", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const png = fake.imageBytes("png")
      yield* gen.generate({
        prompt: "make it snow",
        model: "flux-dev-replicate",
        images: [new ImageBytes({ data: png, mediaType: "image/png", name: "house.png" })],
        providerOptions: { prompt_strength: 0.7 }
      })
      const [file] = yield* fake.files
      assert.strictEqual(file!.filename, "house.png")
      assert.strictEqual(file!.contentType, "image/png")
      assert.deepStrictEqual(file!.bytes, png)
      const [create] = yield* fake.server.requestsMatching(createFilter)
      const body = yield* bodyOf(create)
      assert.strictEqual(body.input.image, `${fake.apiUrl}/files/${file!.id}`)
      assert.strictEqual(body.input.prompt_strength, 0.7)

      yield* gen.generate({
        prompt: "combine them",
        model: "flux-2-pro-replicate",
        images: [
          new ImageUrl({ url: "https://example.test/a.png" }),
          new ImageUrl({ url: "https://example.test/b.png" })
        ]
      })
      const creates = yield* fake.server.requestsMatching(createFilter)
      const flux2 = yield* bodyOf(creates[1])
      assert.deepStrictEqual(flux2.input, {
        prompt: "combine them",
        input_images: ["https://example.test/a.png", "https://example.test/b.png"],
        aspect_ratio: "match_input_image",
        resolution: "match_input_image"
      })
      assert.strictEqual(yield* fake.server.count(filesFilter), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("inlines input bytes as a data URL when asked", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({}, { inputImages: "data-url" })
      yield* gen.generate({
        prompt: "edit",
        model: "kontext-pro-replicate",
        images: [new ImageBytes({ data: fake.imageBytes("png"), mediaType: "image/png" })]
      })
      const body = yield* bodyOf((yield* fake.server.requestsMatching(createFilter))[0])
      assert.match(body.input.input_image as string, /^data:image\/png;base64,iVBOR/)
      assert.strictEqual(yield* fake.server.count(filesFilter), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("passes webhook and webhook_events_filter through", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({}, { webhookEventsFilter: ["completed"] })
      yield* gen.generate({ prompt, model: "flux-schnell-replicate", webhookUrl: "https://example.test/hook" })
      yield* gen.generate({
        prompt,
        model: "flux-schnell-replicate",
        webhookUrl: "https://example.test/hook2",
        providerOptions: { webhook_events_filter: ["start", "completed"] }
      })
      const bodies = yield* Effect.forEach(yield* fake.server.requestsMatching(createFilter), bodyOf)
      assert.strictEqual(bodies[0]!.webhook, "https://example.test/hook")
      assert.deepStrictEqual(bodies[0]!.webhook_events_filter, ["completed"])
      assert.deepStrictEqual(bodies[1]!.webhook_events_filter, ["start", "completed"])
      assert.isUndefined(bodies[1]!.input.webhook_events_filter)
      const stored = yield* fake.predictions
      assert.strictEqual(stored[1]!.webhook, "https://example.test/hook2")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("polls when the wait window ends first, reporting queue and running progress with logs", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ scenario: { startingMs: 150, processingMs: 300 } }, {
        ...fast,
        wait: false
      })
      const events = yield* gen.generateStream({ prompt, model: "flux-schnell-replicate" }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray)
      )
      const tags = events.map((e) => e._tag)
      assert.includeMembers(tags, ["Started", "Submitted", "Queued", "Running", "Completed"])
      assert.strictEqual(tags[tags.length - 1], "Completed")
      const running = events.filter((e): e is Extract<Progress.ProgressEvent, { _tag: "Running" }> =>
        e._tag === "Running"
      )
      const logs = running.flatMap((e) => e.logs)
      assert.include(logs, "Using seed: 1234")
      // Lines are reported once each, in order.
      assert.strictEqual(new Set(logs).size, logs.length)
      assert.isTrue(running.some((e) => e.percent !== undefined && e.percent > 0))
      const completed = events[events.length - 1] as Extract<Progress.ProgressEvent, { _tag: "Completed" }>
      assert.strictEqual(completed.result.images.length, 1)
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
      assert.isAtLeast(yield* fake.server.count(getFilter), 2)
      const [create] = yield* fake.server.requestsMatching(createFilter)
      assert.isUndefined(create!.headers.prefer)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("keeps polling a `processing` answer that already has output, until `succeeded`", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup(
        { scenario: { startingMs: 10, processingMs: 600, outputAtMs: 20 } },
        { ...fast, wait: 5 }
      )
      const result = yield* gen.generate({ prompt, model: "flux-dev-replicate" })
      const [create] = yield* fake.server.requestsMatching(createFilter)
      assert.strictEqual(create!.headers.prefer, "wait=5")
      assert.isAtLeast(yield* fake.server.count(getFilter), 1)
      assert.strictEqual((result.raw as { status: string }).status, "succeeded")
      assert.strictEqual(result.images.length, 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("retries a failed status check (503 once) without a second create", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ scenario: { startingMs: 20, processingMs: 100 } }, {
        ...fast,
        wait: false,
        stepRetry: { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" }
      })
      yield* fake.server.script(getFilter, [FakeReplicate.unavailable(503)])
      const result = yield* gen.generate({ prompt, model: "flux-schnell-replicate" })
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
      assert.strictEqual(yield* fake.server.pendingScripts, 0)
      assert.strictEqual(result.attempts, 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("turns a status check that keeps failing into JobFailed with the request id, never re-creating", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ scenario: { startingMs: 20, processingMs: 100 } }, {
        ...fast,
        wait: false,
        stepRetry: { attempts: 2, maxWait: "1 second", baseDelay: "10 millis" }
      })
      yield* fake.server.script(getFilter, [FakeReplicate.unavailable(503), FakeReplicate.unavailable(502)])
      const error = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(error._tag, "JobFailed")
      const [stored] = yield* fake.predictions
      assert.strictEqual((error as ImageError.JobFailed).requestId, stored!.id)
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("cancels the prediction at Replicate when the caller interrupts", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ scenario: { startingMs: 10, processingMs: 60_000 } }, {
        ...fast,
        wait: false
      })
      const fiber = yield* Effect.fork(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      yield* fake.server.awaitCount(getFilter, 2)
      yield* Fiber.interrupt(fiber)
      const cancels = yield* fake.server.awaitCount(cancelFilter, 1)
      const [stored] = yield* fake.predictions
      assert.strictEqual(cancels[0]!.path, `/v1/predictions/${stored!.id}/cancel`)
      assert.isDefined(stored!.canceledAt)
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("fails with PollDeadline and cancels when the deadline passes", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({ scenario: { startingMs: 10, processingMs: 60_000 } }, {
        ...fast,
        wait: false,
        deadline: "300 millis"
      })
      const error = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(error._tag, "PollDeadline")
      const deadline = error as ImageError.PollDeadline
      assert.strictEqual(deadline.deadlineMillis, 300)
      assert.strictEqual(deadline.lastStatus, "Running")
      assert.strictEqual(yield* fake.server.count(cancelFilter), 1)
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("maps a safety-checker failure to ContentBlocked and never retries it", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({}, fast)
      const error = yield* failure(
        gen.generate({ prompt: "something nsfw", model: "flux-schnell-replicate", fallbacks: ["flux-dev-replicate"] })
      )
      assert.strictEqual(error._tag, "ContentBlocked")
      assert.match((error as ImageError.ContentBlocked).reason!, /NSFW content/)
      assert.isDefined((error as ImageError.ContentBlocked).requestId)
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
      // A pro model's moderation message too.
      const pro = yield* failure(gen.generate({ prompt: "nsfw", model: "flux-1.1-pro-replicate" }))
      assert.strictEqual(pro._tag, "ContentBlocked")
      assert.match((pro as ImageError.ContentBlocked).reason!, /E005/)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("maps failed, canceled and aborted predictions to JobFailed with Replicate's text", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup({}, fast)
      yield* fake.setScenario({ outcome: "failed", error: "CUDA out of memory (E1001)" })
      const failed = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(failed._tag, "JobFailed")
      assert.include((failed as ImageError.JobFailed).detail, "CUDA out of memory (E1001)")
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
      yield* fake.setScenario({ outcome: "canceled", error: undefined })
      const canceled = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.include((canceled as ImageError.JobFailed).detail, "canceled")
      yield* fake.setScenario({ outcome: "aborted" })
      const aborted = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.include((aborted as ImageError.JobFailed).detail, "aborted")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("maps Replicate's error statuses to typed errors", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const unknown = yield* failure(gen.generate({ prompt, model: "replicate:acme/does-not-exist" }))
      assert.strictEqual(unknown._tag, "InvalidRequest")
      assert.strictEqual((unknown as ImageError.InvalidRequest).status, 404)
      const retired = yield* failure(gen.generate({ prompt, model: "replicate:acme/retired-model" }))
      assert.strictEqual(retired._tag, "InvalidRequest")
      assert.include((retired as ImageError.InvalidRequest).detail, "does not exist")
      const validation = yield* failure(
        gen.generate({ prompt, model: "flux-schnell-replicate", providerOptions: { aspect_ratio: "7:3" } })
      )
      assert.strictEqual(validation._tag, "InvalidRequest")
      assert.strictEqual((validation as ImageError.InvalidRequest).status, 422)
      assert.strictEqual((validation as ImageError.InvalidRequest).field, "aspect_ratio")
      yield* fake.setOutOfCredit(true)
      const credit = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual((credit as ImageError.InvalidRequest).status, 402)
      assert.include(credit.message, "insufficient credit")
      yield* fake.setOutOfCredit(false)
      // None of these is retried.
      assert.strictEqual(yield* fake.server.count(), 4)

      yield* fake.server.script(createFilter, [
        FakeReplicate.unavailable(503),
        FakeReplicate.unavailable(502),
        FakeReplicate.unavailable(500)
      ])
      const down = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(down._tag, "ProviderUnavailable")
      assert.strictEqual(yield* fake.server.count(createFilter), 7)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("fails with AuthenticationError naming REPLICATE_API_TOKEN", () =>
    Effect.gen(function*() {
      const bad = yield* setup({}, { token: "r8_wrong" })
      const error = yield* failure(bad.gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.strictEqual((error as ImageError.AuthenticationError).status, 401)
      assert.include(error.message, "REPLICATE_API_TOKEN")
      assert.notInclude(error.message, "r8_wrong")
      assert.strictEqual(yield* bad.fake.server.count(), 1)

      const none = yield* setup({}, { token: null })
      const missing = yield* failure(none.gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(missing._tag, "AuthenticationError")
      assert.include(missing.message, "REPLICATE_API_TOKEN")
      assert.strictEqual(yield* none.fake.server.count(), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("honours Retry-After on a 429 create: two creates, about a second apart", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(createFilter, [FakeReplicate.throttled(1)])
      const started = Date.now()
      const result = yield* gen.generate({ prompt, model: "flux-schnell-replicate" })
      const elapsed = Date.now() - started
      assert.strictEqual(result.attempts, 2)
      const creates = yield* fake.server.requestsMatching(createFilter)
      assert.strictEqual(creates.length, 2)
      assert.isAtLeast(creates[1]!.receivedAt - creates[0]!.receivedAt, 950)
      assert.isAtLeast(elapsed, 950)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("maps a 429 without retries left to RateLimited with the wait", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script(createFilter, [
        FakeReplicate.throttled(30)
      ])
      const error = yield* failure(gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual((error as ImageError.RateLimited).retryAfterMillis, 30_000)
      assert.include(error.message, "throttled")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("fails with DownloadFailed when the output URL has expired, and JobFailed when data was removed", () =>
    Effect.gen(function*() {
      const expired = yield* setup({ outputTtl: Duration.zero })
      const error = yield* failure(expired.gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(error._tag, "DownloadFailed")
      assert.include(error.message, "expired")
      assert.isDefined((error as ImageError.DownloadFailed).requestId)
      assert.strictEqual(yield* expired.fake.server.count(createFilter), 1)

      const removed = yield* setup({ dataRetention: Duration.zero })
      const gone = yield* failure(removed.gen.generate({ prompt, model: "flux-schnell-replicate" }))
      assert.strictEqual(gone._tag, "JobFailed")
      assert.include(gone.message, "removed")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("retries a transient download failure by itself", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.server.script({ path: "/delivery/*" }, [Fault.status(503), Fault.resetBeforeResponse])
      const result = yield* gen.generate({ prompt, model: "flux-schnell-replicate" })
      assert.deepStrictEqual(result.images[0]!.bytes, fake.imageBytes("webp"))
      assert.strictEqual(result.images[0]!.mediaType, "image/webp")
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("layerConfig reads REPLICATE_API_TOKEN and REPLICATE_BASE_URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeReplicate.make()
      const provider = ReplicateProvider.layerConfig({ wait: 5 })
      const program = Effect.gen(function*() {
        const gen = yield* ImageGen.ImageGen
        return yield* gen.generate({ prompt, model: "replicate:black-forest-labs/flux-schnell" })
      })
      const result = yield* program.pipe(
        Effect.provide(ImageGen.layer([provider], { retry: { attempts: 1, maxWait: "1 second" } })),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["REPLICATE_API_TOKEN", fake.token], ["REPLICATE_BASE_URL", fake.apiUrl]]))
        )
      )
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(yield* fake.server.count(createFilter), 1)
    }).pipe(Effect.provide(Live)))
})

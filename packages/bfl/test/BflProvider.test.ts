import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Headers from "@effect/platform/Headers"
import { assert, describe, it } from "@effect/vitest"
import { BflClient, BflProvider } from "@image-gen/bfl"
import * as FakeBfl from "@image-gen/bfl/testing"
import type * as ImageError from "@image-gen/core/ImageError"
import * as ImageGen from "@image-gen/core/ImageGen"
import * as ImageRequest from "@image-gen/core/ImageRequest"
import type * as Progress from "@image-gen/core/Progress"
import { FakeResponse, Fault } from "@image-gen/testing"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)

const retry = { attempts: 3, maxWait: "1 second", baseDelay: "10 millis" } as const

const setup = (
  fakeOptions: FakeBfl.Options = {},
  providerOptions: BflProvider.Options & { readonly apiKey?: string } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeBfl.make(fakeOptions)
    const client = yield* BflClient.make({
      apiKey: Redacted.make(providerOptions.apiKey ?? fake.apiKey),
      apiUrl: fake.url
    })
    const provider = yield* BflProvider.make({
      pollSchedule: Schedule.spaced("20 millis"),
      deadline: "10 seconds",
      stepRetry: retry,
      download: { retry: { attempts: 2, maxWait: "100 millis", baseDelay: "10 millis" } },
      ...providerOptions
    }).pipe(Effect.provideService(BflClient.BflClient, client))
    const gen = yield* ImageGen.make([provider], { retry })
    return { fake, gen, client, server: fake.server }
  })

const submissions = { method: "POST", path: "/v1/:model" } as const
const clusterPolls = { method: "GET", path: "/cluster-eu/v1/get_result" } as const
const globalPolls = { method: "GET", path: "/v1/get_result" } as const

const failure = <A>(effect: Effect.Effect<A, ImageError.ImageError>) => Effect.flip(effect)

const bodies = (server: FakeBfl.Service["server"]) =>
  Effect.flatMap(
    server.requestsMatching(submissions),
    (requests) => Effect.forEach(requests, (r) => Effect.map(r.json, (b) => b as Record<string, unknown>))
  )

describe("BflProvider", () => {
  it.scopedLive("generates with FLUX.2 [pro]: maps fields, follows the cluster polling_url, downloads at once", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const result = yield* gen.generate({
        prompt: "a lighthouse at dawn",
        model: "bfl:flux-2-pro",
        size: "1024x768",
        seed: 7,
        outputFormat: "png"
      })
      const [body] = yield* bodies(server)
      assert.deepStrictEqual(body, {
        prompt: "a lighthouse at dawn",
        width: 1024,
        height: 768,
        seed: 7,
        output_format: "png"
      })
      const [submit] = yield* server.requestsMatching(submissions)
      assert.strictEqual(submit!.path, "/v1/flux-2-pro")
      assert.strictEqual(submit!.headers["x-key"], fake.apiKey)
      // Polls went to the cluster URL the API returned, never to a rebuilt /v1/get_result.
      assert.isAtLeast(yield* server.count(clusterPolls), 3)
      assert.strictEqual(yield* server.count(globalPolls), 0)
      const [task] = yield* fake.tasks
      assert.strictEqual(result.requestId, task!.id)
      assert.strictEqual(result.images.length, 1)
      const image = result.images[0]!
      assert.strictEqual(image.mediaType, "image/png")
      assert.strictEqual(Buffer.from(image.bytes!).subarray(1, 4).toString("latin1"), "PNG")
      assert.strictEqual(image.width, 1024)
      assert.strictEqual(image.seed, 7)
      assert.match(image.url!, /\/delivery\/cluster-eu\/results\//)
      // 3 credits = $0.03, as the API reported it.
      assert.strictEqual(result.costUsd, 0.03)
      assert.strictEqual(result.usage?.units?.credits, 3)
      assert.strictEqual(yield* server.count({ path: "/delivery/*" }), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("does not send the key to a polling_url outside BFL's hosts and the configured origin", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      // Another loopback address is another origin: the test never leaves this machine either way.
      const elsewhere = `http://127.0.0.2:${new URL(server.url).port}/v1/get_result?id=t1`
      yield* server.script(submissions, [FakeResponse.json({ id: "t1", polling_url: elsewhere })])
      const error = yield* failure(gen.generate({ prompt: "a lighthouse", model: "bfl:flux-2-pro" }))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.include(error.message, "not sending the key there")
      assert.strictEqual(yield* server.count(globalPolls), 0)
      assert.strictEqual(yield* server.count(submissions), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("converts aspect ratio and resolution to FLUX.2 width/height (multiples of 16)", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* gen.generate({ prompt: "wide", model: "bfl-flux-2-pro", aspectRatio: "16:9", resolution: "2K" })
      yield* gen.generate({ prompt: "tall", model: "bfl:flux-2-flex", aspectRatio: "9:16", resolution: "1080p" })
      const [a, b] = yield* bodies(server)
      assert.deepStrictEqual([a!.width, a!.height], [2048, 1152])
      assert.deepStrictEqual([b!.width, b!.height], [1088, 1920])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("edits with Kontext: input images as base64 or URL, size as aspect_ratio, png by default", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const bytes = new Uint8Array([1, 2, 3, 4])
      const result = yield* gen.generate({
        prompt: "replace the sky with a stormy sunset",
        model: "kontext-pro",
        size: "1024x768",
        images: [
          new ImageRequest.ImageBytes({ data: bytes, mediaType: "image/png" }),
          new ImageRequest.ImageUrl({ url: "https://example.test/in.jpg" })
        ],
        providerOptions: { safety_tolerance: 2 }
      })
      const [body] = yield* bodies(server)
      assert.deepStrictEqual(body, {
        prompt: "replace the sky with a stormy sunset",
        aspect_ratio: "4:3",
        input_image: Buffer.from(bytes).toString("base64"),
        input_image_2: "https://example.test/in.jpg",
        safety_tolerance: 2
      })
      assert.strictEqual((yield* server.requestsMatching(submissions))[0]!.path, "/v1/flux-kontext-pro")
      assert.strictEqual(result.images[0]!.mediaType, "image/png")
      assert.strictEqual(result.costUsd, 0.04)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("passes webhooks through (webhook_url, webhook_secret) and polls /v1/get_result when no polling_url", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const result = yield* gen.generate({
        prompt: "a fox",
        model: "bfl:flux-2-pro",
        webhookUrl: "https://hooks.example.test/bfl",
        providerOptions: { webhook_secret: "s3cr3t", prompt_upsampling: true }
      })
      const [body] = yield* bodies(server)
      assert.strictEqual(body!.webhook_url, "https://hooks.example.test/bfl")
      assert.strictEqual(body!.webhook_secret, "s3cr3t")
      assert.strictEqual(body!.prompt_upsampling, true)
      assert.isAtLeast(yield* server.count(globalPolls), 1)
      assert.strictEqual(result.images.length, 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("n = 3 runs three jobs (one image each) with consecutive seeds", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const result = yield* gen.generate({ prompt: "three cats", model: "bfl:flux-2-pro", n: 3, seed: 100 })
      assert.strictEqual(result.images.length, 3)
      const seeds = (yield* bodies(server)).map((b) => b.seed as number).sort()
      assert.deepStrictEqual(seeds, [100, 101, 102])
      assert.strictEqual(result.costUsd, 0.09)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("reports progress: submitted, queued, running with percent, completed", () =>
    Effect.gen(function*() {
      const { gen } = yield* setup()
      const events = yield* gen.generateStream({ prompt: "progress", model: "bfl:flux-2-pro" }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray)
      )
      const tags = events.map((e) => e._tag)
      assert.deepStrictEqual(tags.slice(0, 2), ["Started", "Submitted"])
      assert.include(tags, "Queued")
      const running = events.find((e): e is Extract<Progress.ProgressEvent, { _tag: "Running" }> =>
        e._tag === "Running"
      )
      assert.strictEqual(running?.percent, 50)
      assert.strictEqual(tags[tags.length - 1], "Completed")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a failed poll (503 once) is retried without a second submission", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(clusterPolls, [Fault.status(503, { body: { detail: "Service Unavailable" } })])
      const result = yield* gen.generate({ prompt: "resilient", model: "bfl:flux-2-pro" })
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(yield* server.count(submissions), 1)
      assert.strictEqual(yield* server.pendingScripts, 0)
      assert.strictEqual(result.attempts, 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("Request Moderated and Content Moderated are ContentBlocked, never retried", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const input = yield* failure(gen.generate({ prompt: "x [request-moderated]", model: "bfl:flux-2-pro" }))
      assert.strictEqual(input._tag, "ContentBlocked")
      assert.strictEqual(yield* server.count(submissions), 1)
      const output = yield* failure(gen.generate({ prompt: "y [content-moderated]", model: "bfl:flux-2-pro" }))
      assert.strictEqual(output._tag, "ContentBlocked")
      assert.include(output.message, "Derivative Works")
      assert.include(output.message, "provider request id")
      assert.strictEqual(yield* server.count(submissions), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("Error and Failed are JobFailed; Task not found means the job vanished", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      const error = yield* failure(gen.generate({ prompt: "boom [error]", model: "bfl:flux-2-pro" }))
      assert.strictEqual(error._tag, "JobFailed")
      const failed = yield* failure(gen.generate({ prompt: "boom [failed]", model: "bfl:flux-2-pro" }))
      assert.strictEqual(failed._tag, "JobFailed")
      yield* fake.enqueue([{ status: "Task not found" }])
      const vanished = yield* failure(gen.generate({ prompt: "gone", model: "bfl:flux-2-pro" }))
      assert.strictEqual(vanished._tag, "JobFailed")
      assert.include(vanished.message, "vanished")
      assert.strictEqual(yield* server.count(submissions), 3)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a brief Task not found right after submit is tolerated; unknown progress words keep polling", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      yield* fake.enqueue([{ status: "Task not found" }, { status: "Processing" }, { status: "Ready" }])
      const result = yield* gen.generate({ prompt: "eventually", model: "bfl:flux-2-pro" })
      assert.strictEqual(result.images.length, 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a job still Pending at the deadline fails with PollDeadline (BFL has no cancel endpoint)", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup({}, { deadline: "300 millis" })
      yield* fake.enqueue([{ status: "Pending", progress: 0.1 }])
      const error = yield* failure(gen.generate({ prompt: "slow", model: "bfl:flux-2-pro" }))
      assert.strictEqual(error._tag, "PollDeadline")
      assert.strictEqual(yield* server.count(submissions), 1)
      // Only submit and status checks: there is nothing to cancel at BFL.
      const paths = (yield* server.requests).map((r) => r.path)
      assert.isTrue(paths.every((p) => p === "/v1/flux-2-pro" || p === "/cluster-eu/v1/get_result"))
    }).pipe(Effect.provide(Live)))

  it.scopedLive("interruption stops polling; no cancel request exists for BFL", () =>
    Effect.gen(function*() {
      const { fake, gen, server } = yield* setup()
      yield* fake.enqueue([{ status: "Pending" }])
      const fiber = yield* Effect.fork(gen.generate({ prompt: "interrupted", model: "bfl:flux-2-pro" }))
      yield* server.awaitCount(clusterPolls, 2)
      yield* Fiber.interrupt(fiber)
      const after = yield* server.count()
      yield* Effect.sleep("150 millis")
      assert.strictEqual(yield* server.count(), after)
      assert.strictEqual(yield* server.count({ method: "POST", path: "*" }), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an expired result URL is DownloadFailed carrying the request id", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({ resultTtl: 0 })
      const error = yield* failure(gen.generate({ prompt: "too late", model: "bfl:flux-2-pro" }))
      assert.strictEqual(error._tag, "DownloadFailed")
      assert.include(error.message, "expired")
      assert.include(error.message, "provider request id")
      assert.strictEqual(yield* server.count(submissions), 1)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("429 with Retry-After: 1 is honoured, then the submission succeeds", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(submissions, [
        Fault.rateLimited({ retryAfterSeconds: 1, body: { detail: "Rate limit exceeded" } })
      ])
      const start = Date.now()
      const result = yield* gen.generate({ prompt: "patience", model: "bfl:flux-2-pro" })
      assert.isAtLeast(Date.now() - start, 950)
      assert.strictEqual(yield* server.count(submissions), 2)
      assert.strictEqual(result.attempts, 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("too many active tasks (429) ends as RateLimited after the router's retries", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup({ maxActiveTasks: 0 })
      const error = yield* failure(gen.generate({ prompt: "busy", model: "bfl:flux-2-pro" }))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(yield* server.count(submissions), 3)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("5xx on submit is ProviderUnavailable and retried (the job was never accepted)", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      yield* server.script(submissions, [Fault.status(502), Fault.status(503)])
      const result = yield* gen.generate({ prompt: "flaky", model: "bfl:flux-2-pro" })
      assert.strictEqual(result.images.length, 1)
      assert.strictEqual(yield* server.count(submissions), 3)
      yield* server.script(submissions, [Fault.status(500), Fault.status(500), Fault.status(500)])
      const error = yield* failure(gen.generate({ prompt: "down", model: "bfl:flux-2-pro" }))
      assert.strictEqual(error._tag, "ProviderUnavailable")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("maps error statuses: 401 names BFL_API_KEY, 422 names the field, 402 credits, 404 model, 410 retired", () =>
    Effect.gen(function*() {
      const { fake, server } = yield* setup()
      const { gen: badKey } = yield* setup({}, { apiKey: "wrong" })
      const auth = yield* failure(badKey.generate({ prompt: "x", model: "bfl:flux-2-pro" }))
      assert.strictEqual(auth._tag, "AuthenticationError")
      assert.include(auth.message, "BFL_API_KEY")
      assert.notInclude(auth.message, "wrong")

      const fakeGen = yield* setupOn(fake)
      const invalid = yield* failure(
        fakeGen.generate({ prompt: "x", model: "bfl:flux-2-pro", providerOptions: { safety_tolerance: 9 } })
      )
      assert.strictEqual(invalid._tag, "InvalidRequest")
      assert.strictEqual((invalid as ImageError.InvalidRequest).field, "safety_tolerance")
      assert.strictEqual(yield* server.count(submissions), 1)

      yield* fake.setCredits(1)
      const credits = yield* failure(fakeGen.generate({ prompt: "x", model: "bfl:flux-2-pro" }))
      assert.strictEqual(credits._tag, "InvalidRequest")
      assert.include(credits.message, "credits")
      yield* fake.setCredits(1000)

      const unknown = yield* failure(fakeGen.generate({ prompt: "x", model: "bfl:flux-9-hyper" }))
      assert.strictEqual(unknown._tag, "InvalidRequest")
      assert.strictEqual((unknown as ImageError.InvalidRequest).status, 404)

      const retiredPreflight = yield* failure(fakeGen.generate({ prompt: "x", model: "bfl:flux-pro" }))
      assert.strictEqual(retiredPreflight._tag, "ModelRetired")
      const client = yield* BflClient.make({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url })
      const retired = yield* failure(client.submit("flux-pro", { prompt: "x" }))
      assert.strictEqual(retired._tag, "ModelRetired")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("unsupported fields fail before any call (negative prompt, mask on FLUX.2, too many inputs)", () =>
    Effect.gen(function*() {
      const { gen, server } = yield* setup()
      const negative = yield* failure(gen.generate({ prompt: "x", model: "bfl:flux-2-pro", negativePrompt: "blur" }))
      assert.strictEqual(negative._tag, "UnsupportedCapability")
      const image = new ImageRequest.ImageUrl({ url: "https://example.test/a.png" })
      const tooMany = yield* failure(
        gen.generate({ prompt: "x", model: "bfl:flux-2-klein-4b", images: [image, image, image, image, image] })
      )
      assert.strictEqual(tooMany._tag, "UnsupportedCapability")
      // Unknown ids pass the catalog: the provider itself refuses what it cannot send.
      const quality = yield* failure(gen.generate({ prompt: "x", model: "bfl:flux-2-new", quality: "hd" }))
      assert.strictEqual(quality._tag, "UnsupportedCapability")
      assert.strictEqual(yield* server.count(), 0)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("the x-key header is added to the redacted header names", () =>
    Effect.gen(function*() {
      yield* BflClient.make({ apiKey: Redacted.make("bfl_secret"), apiUrl: "http://127.0.0.1:1" })
      const names = yield* FiberRef.get(Headers.currentRedactedNames)
      assert.include(names, "x-key")
      const redacted = Headers.redact(Headers.fromInput({ "x-key": "bfl_secret" }), names)
      assert.notStrictEqual(String(redacted["x-key"]), "bfl_secret")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("layerConfig reads BFL_API_KEY and BFL_BASE_URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBfl.make()
      const gen = yield* ImageGen.ImageGen.pipe(
        Effect.provide(
          ImageGen.layer([BflProvider.layerConfig({ pollSchedule: Schedule.spaced("20 millis") })], { retry }).pipe(
            Layer.provide(Layer.setConfigProvider(
              ConfigProvider.fromMap(new Map([["BFL_API_KEY", fake.apiKey], ["BFL_BASE_URL", fake.url]]))
            ))
          )
        )
      )
      const result = yield* gen.generate({ prompt: "configured", model: "bfl:flux-2-pro" })
      assert.strictEqual(result.provider, "bfl")
      assert.strictEqual(result.images.length, 1)
    }).pipe(Effect.provide(Live)))
})

/** A router over an existing fake. */
const setupOn = (fake: FakeBfl.Service) =>
  Effect.gen(function*() {
    const client = yield* BflClient.make({ apiKey: Redacted.make(fake.apiKey), apiUrl: fake.url })
    const provider = yield* BflProvider.make({ pollSchedule: Schedule.spaced("20 millis"), stepRetry: retry }).pipe(
      Effect.provideService(BflClient.BflClient, client)
    )
    return yield* ImageGen.make([provider], { retry })
  })

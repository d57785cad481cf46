// Contract test: the official JS SDK (`@higgsfield/client` 0.2.6, v2 client) against the fake. The SDK
// takes a `baseURL`, so it talks to 127.0.0.1 only. It is run with `maxRetries: 0` (or 1 with a tiny
// backoff), because of its documented quirk: every HTTP error on submit is retried (its interceptor turns
// errors into SDK classes before the retry helper looks at them).
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { createHiggsfieldClient } from "@higgsfield/client/v2"
import type { V2Response } from "@higgsfield/client/v2"
import { HiggsfieldClient } from "@image-gen/higgsfield"
import * as FakeHiggsfield from "@image-gen/higgsfield/testing"
import { Fault } from "@image-gen/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

const Live = Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer)

const sdkFor = (fake: FakeHiggsfield.Service, extra: Record<string, unknown> = {}) =>
  createHiggsfieldClient({
    credentials: fake.credentials,
    baseURL: fake.url,
    pollInterval: 20,
    maxRetries: 0,
    ...extra
  })

const call = <A>(f: () => Promise<A>) =>
  Effect.promise(() =>
    f().then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))
  )

describe("@higgsfield/client against the fake", () => {
  it.scopedLive("subscribe (Soul) polls to completed and gets an image URL served by the fake", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make()
      const sdk = sdkFor(fake)
      const outcome = yield* call(() =>
        sdk.subscribe("higgsfield-ai/soul/standard", {
          input: { prompt: "portrait of an astronaut in a sunflower field", aspect_ratio: "16:9", resolution: "720p" }
        })
      )
      assert.isTrue(outcome.ok)
      const response = (outcome as { value: V2Response }).value
      assert.strictEqual(response.status, "completed")
      assert.strictEqual(response.images?.length, 1)
      const image = yield* Effect.promise(() => fetch(response.images![0]!.url))
      assert.strictEqual(image.headers.get("content-type"), "image/png")
      // What the SDK sent is what our client sends: flat body, Key auth, relative status polling.
      const [submit] = yield* fake.server.requestsMatching({ method: "POST", path: "/higgsfield-ai/soul/standard" })
      assert.strictEqual(submit!.headers.authorization, `Key ${fake.credentials}`)
      assert.deepStrictEqual(yield* submit!.json, {
        prompt: "portrait of an astronaut in a sunflower field",
        aspect_ratio: "16:9",
        resolution: "720p"
      })
      assert.isAtLeast(yield* fake.server.count({ method: "GET", path: "/requests/:id/status" }), 4)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("subscribe (DoP) returns video.url; nsfw and failed come back as statuses", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make()
      const sdk = sdkFor(fake)
      const video = yield* call(() =>
        sdk.subscribe("higgsfield-ai/dop/preview", {
          input: { prompt: "dolly in", image_url: "https://example.test/in.jpg" }
        })
      )
      assert.isTrue(video.ok)
      const response = (video as { value: V2Response }).value
      assert.strictEqual(response.status, "completed")
      assert.match(response.video!.url, /video\.mp4$/)

      const nsfw = yield* call(() => sdk.subscribe("higgsfield-ai/soul/standard", { input: { prompt: "[nsfw]" } }))
      assert.strictEqual((nsfw as { value: V2Response }).value.status, "nsfw")
      const failed = yield* call(() => sdk.subscribe("higgsfield-ai/soul/standard", { input: { prompt: "[failed]" } }))
      assert.strictEqual((failed as { value: V2Response }).value.status, "failed")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("the SDK's submit envelope decodes with our client's schema; hf_webhook arrives as a query param", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make()
      const sdk = sdkFor(fake)
      const outcome = yield* call(() =>
        sdk.subscribe("higgsfield-ai/soul/standard", {
          input: { prompt: "no wait" },
          webhook: { url: "https://hooks.example.test/hf", secret: "unused" },
          withPolling: false
        })
      )
      const envelope = (outcome as { value: V2Response }).value
      const decoded = Schema.decodeUnknownSync(HiggsfieldClient.RequestStatus)(envelope)
      assert.strictEqual(decoded.status, "queued")
      assert.strictEqual(decoded.status_url, `${fake.url}/requests/${decoded.request_id}/status`)
      const [job] = yield* fake.jobs
      assert.strictEqual(job!.webhook, "https://hooks.example.test/hf")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("errors: bad credentials -> AuthenticationError, 422 -> ValidationError, 403 -> NotEnoughCreditsError", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make()
      const bad = createHiggsfieldClient({ credentials: "hf-test-key:nope", baseURL: fake.url, maxRetries: 0 })
      const auth = yield* call(() => bad.subscribe("higgsfield-ai/soul/standard", { input: { prompt: "x" } }))
      assert.isFalse(auth.ok)
      assert.strictEqual((auth as { error: Error }).error.constructor.name, "AuthenticationError")

      const sdk = sdkFor(fake)
      const invalid = yield* call(() => sdk.subscribe("higgsfield-ai/soul/standard", { input: { resolution: "720p" } }))
      assert.strictEqual((invalid as { error: Error }).error.constructor.name, "ValidationError")
      assert.include((invalid as { error: Error }).error.message, "prompt")

      yield* fake.server.script({ method: "POST", path: "/higgsfield-ai/soul/standard" }, [
        Fault.status(403, { body: { detail: "Not enough credits" } })
      ])
      const credits = yield* call(() => sdk.subscribe("higgsfield-ai/soul/standard", { input: { prompt: "x" } }))
      assert.strictEqual((credits as { error: Error }).error.constructor.name, "NotEnoughCreditsError")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("the documented quirk: the SDK retries a 401 on submit (maxRetries: 1 -> 2 calls)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make()
      const bad = createHiggsfieldClient({
        credentials: "hf-test-key:nope",
        baseURL: fake.url,
        maxRetries: 1,
        retryBackoff: 1,
        retryMaxBackoff: 50
      })
      const auth = yield* call(() => bad.subscribe("higgsfield-ai/soul/standard", { input: { prompt: "x" } }))
      assert.isFalse(auth.ok)
      assert.strictEqual(yield* fake.server.count({ method: "POST", path: "/higgsfield-ai/soul/standard" }), 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("our client and the SDK agree on the same fake: cancel while queued is 202, then 400", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make()
      yield* fake.enqueue([{ status: "queued" }])
      const sdk = sdkFor(fake)
      const submitted = yield* call(() =>
        sdk.subscribe("higgsfield-ai/soul/standard", { input: { prompt: "cancel me" }, withPolling: false })
      )
      const envelope = Schema.decodeUnknownSync(HiggsfieldClient.RequestStatus)(
        (submitted as { value: V2Response }).value
      )
      const client = yield* HiggsfieldClient.make({
        apiKey: Redacted.make(fake.apiKey),
        apiSecret: Redacted.make(fake.apiSecret),
        apiUrl: fake.url
      })
      assert.isTrue(yield* client.cancel(envelope))
      assert.isFalse(yield* client.cancel(envelope))
      const status = yield* client.status(envelope)
      assert.strictEqual(status.status, "canceled")
    }).pipe(Effect.provide(Live)))
})

/**
 * Contract tests: the official `@fal-ai/client` (1.10.1) against the fake. Its hosts are hard-coded
 * (the default queue and storage hosts), so its `fetch` option rewrites them to the fake.
 */
import { assert, describe, it } from "@effect/vitest"
import { ApiError, createFalClient, ValidationError } from "@fal-ai/client"
import type { QueueStatus } from "@fal-ai/client"
import { FalClient } from "@image-gen/fal"
import * as FakeFal from "@image-gen/fal/testing"
import * as Effect from "effect/Effect"
import { setup } from "./utils.js"

const sdkFor = (fake: FakeFal.Service, credentials = "dummy-key") =>
  createFalClient({
    credentials,
    fetch: (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
      const rewritten = url
        .replace(FalClient.defaultQueueUrl, fake.queueUrl)
        .replace(FalClient.defaultRestUrl, fake.restUrl)
      if (!rewritten.startsWith("http://127.0.0.1:")) {
        return Promise.reject(new Error(`contract test must stay on loopback, got ${url}`))
      }
      return fetch(rewritten, init)
    }
  })

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const failure = (f: () => Promise<unknown>) => Effect.promise(() => f().then(() => undefined, (e: unknown) => e))

const input = { prompt: "a lighthouse at dusk", image_size: "square_hd" as const, num_images: 2, seed: 5 }

describe("@fal-ai/client against the fake", () => {
  it.scopedLive("queue.submit / status / result: the same data our provider gets", () =>
    Effect.gen(function*() {
      const { fake, gen } = yield* setup()
      const fal = sdkFor(fake)
      const submitted = yield* promise(() => fal.queue.submit("fal-ai/flux/dev", { input }))
      assert.strictEqual(submitted.status, "IN_QUEUE")
      assert.strictEqual(submitted.status_url, `${fake.queueUrl}/fal-ai/flux/requests/${submitted.request_id}/status`)
      const first = yield* promise(() =>
        fal.queue.status("fal-ai/flux/dev", { requestId: submitted.request_id, logs: true })
      )
      assert.strictEqual(first.status, "IN_QUEUE")
      if (first.status === "IN_QUEUE") assert.strictEqual(first.queue_position, 1)
      let status: QueueStatus = first
      const seen: Array<string> = [first.status]
      while (status.status !== "COMPLETED") {
        status = yield* promise(() =>
          fal.queue.status("fal-ai/flux/dev", { requestId: submitted.request_id, logs: true })
        )
        seen.push(status.status)
        if (status.status === "IN_PROGRESS") assert.isAbove(status.logs.length, 0)
      }
      assert.deepStrictEqual(seen, ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"])
      const result = yield* promise(() => fal.queue.result("fal-ai/flux/dev", { requestId: submitted.request_id }))
      assert.strictEqual(result.requestId, submitted.request_id)
      const data = result.data as {
        images: Array<{ url: string; width: number; height: number; content_type: string }>
        seed: number
        has_nsfw_concepts: Array<boolean>
      }
      assert.strictEqual(data.images.length, 2)
      assert.strictEqual(data.seed, 5)
      assert.deepStrictEqual(data.has_nsfw_concepts, [false, false])
      const image = yield* promise(() => fetch(data.images[0]!.url).then((r) => r.arrayBuffer()))
      assert.strictEqual(Buffer.from(image).subarray(1, 4).toString("latin1"), "PNG")

      // our provider, same request, same fake
      const ours = yield* gen.generate({ prompt: input.prompt, model: "flux", aspectRatio: "1:1", n: 2, seed: 5 })
      const [, job] = yield* fake.jobs
      assert.deepStrictEqual(job!.input, input)
      assert.deepStrictEqual(
        ours.images.map((i) => [i.width, i.height, i.mediaType]),
        data.images.map((i) => [i.width, i.height, i.content_type])
      )
      assert.deepStrictEqual(ours.raw && { ...(ours.raw as object), images: [] }, { ...data, images: [] })
    }))

  it.scopedLive("subscribe (polling and streaming) reports queue updates and resolves with the result", () =>
    Effect.gen(function*() {
      const { fake } = yield* setup({ scenario: { queuePositions: [3, 2, 1, 0], logs: ["one", "two"] } })
      const fal = sdkFor(fake)
      for (const mode of ["polling", "streaming"] as const) {
        const updates: Array<QueueStatus> = []
        const result = yield* promise(() =>
          fal.subscribe("fal-ai/bytedance/seedream/v4.5/text-to-image", {
            input: { prompt: "a bridge" },
            logs: true,
            ...(mode === "polling" ? { mode, pollInterval: 10 } : { mode }),
            onQueueUpdate: (u) => {
              updates.push(u)
            }
          })
        )
        assert.strictEqual((result.data as { images: Array<unknown> }).images.length, 1)
        const positions = updates.flatMap((u) => u.status === "IN_QUEUE" ? [u.queue_position] : [])
        assert.deepStrictEqual(positions, [3, 2, 1, 0], mode)
        const running = updates.filter((u) => u.status === "IN_PROGRESS")
        assert.isAbove(running.length, 0, mode)
        assert.strictEqual(updates[updates.length - 1]!.status, "COMPLETED", mode)
      }
      assert.strictEqual(yield* fake.server.count(FakeFal.filters.statusStream), 1)
    }))

  it.scopedLive("cancel: 202 while queued (the result then fails), 400 once completed", () =>
    Effect.gen(function*() {
      const { fake } = yield* setup()
      const fal = sdkFor(fake)
      const queued = yield* promise(() => fal.queue.submit("fal-ai/flux/dev", { input }))
      yield* promise(() => fal.queue.cancel("fal-ai/flux/dev", { requestId: queued.request_id }))
      const status = yield* promise(() => fal.queue.status("fal-ai/flux/dev", { requestId: queued.request_id }))
      assert.strictEqual(status.status, "COMPLETED")
      const cancelled = yield* failure(() => fal.queue.result("fal-ai/flux/dev", { requestId: queued.request_id }))
      assert.instanceOf(cancelled, ApiError)
      assert.strictEqual((cancelled as ApiError<unknown>).status, 499)

      const done = yield* promise(() =>
        fal.subscribe("fal-ai/flux/dev", { input, mode: "polling", pollInterval: 5, onEnqueue: () => {} })
      )
      const again = yield* failure(() => fal.queue.cancel("fal-ai/flux/dev", { requestId: done.requestId }))
      assert.instanceOf(again, ApiError)
      assert.strictEqual((again as ApiError<unknown>).status, 400)
      assert.deepStrictEqual((again as ApiError<unknown>).body, { status: "ALREADY_COMPLETED" })
    }))

  it.scopedLive("errors: 422 validation and content policy as ValidationError, 401 as ApiError", () =>
    Effect.gen(function*() {
      const { fake } = yield* setup({ apiKey: "real-key" })
      const fal = sdkFor(fake, "real-key")
      const invalid = yield* failure(() =>
        fal.subscribe("fal-ai/flux/dev", {
          input: { num_images: 9 } as unknown as typeof input,
          mode: "polling",
          pollInterval: 5
        })
      )
      assert.instanceOf(invalid, ValidationError)
      const fields = (invalid as ValidationError).fieldErrors.map((e) => e.loc.join("."))
      assert.deepStrictEqual(fields, ["body.prompt", "body.num_images"])
      assert.strictEqual((invalid as ValidationError).getFieldErrors("prompt")[0]?.type, "missing")

      yield* fake.enqueue({ outcome: FakeFal.contentPolicyViolation() })
      const blocked = yield* failure(() =>
        fal.subscribe("fal-ai/flux/dev", { input: { prompt: "x" }, mode: "polling", pollInterval: 5 })
      )
      assert.instanceOf(blocked, ValidationError)
      assert.strictEqual((blocked as ValidationError).fieldErrors[0]?.type, "content_policy_violation")

      const unauthorized = yield* failure(() => sdkFor(fake, "wrong").queue.submit("fal-ai/flux/dev", { input }))
      assert.instanceOf(unauthorized, ApiError)
      assert.strictEqual((unauthorized as ApiError<unknown>).status, 401)
    }))

  it.scopedLive("storage.upload: initiate + PUT, and the file is served back", () =>
    Effect.gen(function*() {
      const { fake, server } = yield* setup()
      const fal = sdkFor(fake)
      const bytes = FakeFal.renderPng(3, 2, [0, 128, 255])
      const url = yield* promise(() => fal.storage.upload(new Blob([bytes], { type: "image/png" })))
      assert.isTrue(url.startsWith(`${fake.url}/cdn/files/`))
      const served = yield* promise(() =>
        fetch(url).then(async (r) => [r.headers.get("content-type"), new Uint8Array(await r.arrayBuffer())] as const)
      )
      assert.strictEqual(served[0], "image/png")
      assert.deepStrictEqual(Buffer.from(served[1]), Buffer.from(bytes))
      const [initiate] = yield* server.requestsMatching(FakeFal.filters.uploadInitiate)
      assert.strictEqual(initiate!.headers.authorization, "Key dummy-key")
      assert.strictEqual(initiate!.query.storage_type, "fal-cdn-v3")
    }))
})

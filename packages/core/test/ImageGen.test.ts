import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as ImageError from "../src/ImageError.js"
import * as ImageGen from "../src/ImageGen.js"
import * as Polling from "../src/Polling.js"
import { catalogFor, routerLayer, scripted, scriptedJob } from "./utilities.js"

const retry = { attempts: 3, maxWait: Duration.seconds(8), baseDelay: Duration.millis(500) }
const unavailable = new ImageError.ProviderUnavailable({ provider: "a", status: 503 })

describe("ImageGen retry", () => {
  it.effect("honours Retry-After: no second try before the provider's wait", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", [new ImageError.RateLimited({ provider: "a", retryAfterMillis: 5_000 }), "ok"])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "a:m1" }).pipe(
        Effect.provide(routerLayer([a.service], { retry })),
        Effect.fork
      )
      yield* TestClock.adjust(Duration.millis(4_999))
      assert.strictEqual((yield* Ref.get(a.calls)).length, 1)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.millis(1))
      const result = yield* Fiber.join(fiber)
      assert.strictEqual((yield* Ref.get(a.calls)).length, 2)
      assert.strictEqual(result.attempts, 2)
    }))

  it.effect("a Retry-After longer than the max wait is not waited for", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", [new ImageError.RateLimited({ provider: "a", retryAfterMillis: 60_000 }), "ok"])
      const error = yield* ImageGen.generate({ prompt: "cat", model: "a:m1" }).pipe(
        Effect.provide(routerLayer([a.service], { retry })),
        Effect.flip
      )
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual((yield* Ref.get(a.calls)).length, 1)
    }))

  it.effect("stops at the configured attempts, with capped exponential waits", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", [unavailable])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "a:m1" }, { retry: { attempts: 4 } }).pipe(
        Effect.provide(routerLayer([a.service], { retry })),
        Effect.flip,
        Effect.fork
      )
      // 500ms, 1s, 2s (each jittered by at most 20%): all tries are done after 4.2s.
      yield* TestClock.adjust(Duration.millis(399))
      assert.strictEqual((yield* Ref.get(a.calls)).length, 1)
      yield* TestClock.adjust(Duration.seconds(5))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual((yield* Ref.get(a.calls)).length, 4)
    }))

  it.effect("never retries a content block", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", [new ImageError.ContentBlocked({ provider: "a", reason: "nsfw" }), "ok"])
      const error = yield* ImageGen.generate({ prompt: "cat", model: "a:m1" }).pipe(
        Effect.provide(routerLayer([a.service], { retry })),
        Effect.flip
      )
      assert.strictEqual(error._tag, "ContentBlocked")
      assert.strictEqual((yield* Ref.get(a.calls)).length, 1)
    }))
})

describe("ImageGen fallback", () => {
  it.effect("moves on to the next model and reports the fallback", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", [new ImageError.AuthenticationError({ provider: "a", status: 401 })])
      const b = yield* scripted("b", ["ok"])
      const result = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", fallbacks: ["b:m1"] }).pipe(
        Effect.provide(routerLayer([a.service, b.service], { retry }))
      )
      assert.strictEqual(result.provider, "b")
      assert.isTrue(result.fallbackUsed)
      assert.strictEqual(result.attempts, 2)
    }))

  it.effect("exhaustion carries every model's failure in order", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", [new ImageError.AuthenticationError({ provider: "a", status: 401 })])
      const b = yield* scripted("b", [new ImageError.InvalidRequest({ provider: "b", status: 400, detail: "bad" })])
      const c = yield* scripted("c", [unavailable])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", fallbacks: ["b:m1", "c-short"] }).pipe(
        Effect.provide(routerLayer([a.service, b.service, c.service], { retry })),
        Effect.flip,
        Effect.fork
      )
      yield* TestClock.adjust(Duration.minutes(1))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "FallbackExhausted")
      if (error._tag !== "FallbackExhausted") return
      assert.deepStrictEqual(error.failures.map((f) => [f.provider, f.error._tag]), [
        ["a", "AuthenticationError"],
        ["b", "InvalidRequest"],
        ["c", "ProviderUnavailable"]
      ])
      assert.strictEqual((yield* Ref.get(c.calls)).length, 3)
      assert.include(error.message, "all 3 models failed")
    }))

  it.effect("the predicate decides which failures move on", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", [new ImageError.ContentBlocked({ provider: "a" })])
      const b = yield* scripted("b", ["ok"])
      const layer = routerLayer([a.service, b.service], { retry })
      const blocked = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", fallbacks: ["b:m1"] }).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      assert.strictEqual(blocked._tag, "ContentBlocked")
      assert.strictEqual((yield* Ref.get(b.calls)).length, 0)
      const moved = yield* ImageGen.generate(
        { prompt: "cat", model: "a:m1", fallbacks: ["b:m1"] },
        { shouldFallback: () => true }
      ).pipe(Effect.provide(layer))
      assert.strictEqual(moved.provider, "b")
    }))
})

describe("ImageGen validation", () => {
  it.effect("a capability violation fails before any provider call", () =>
    Effect.gen(function*() {
      const a = yield* scripted(
        "a",
        ["ok"],
        catalogFor("a", [{ id: "m1", capabilities: { aspectRatios: ["1:1", "16:9"], maxN: 4 } }])
      )
      const layer = routerLayer([a.service], { retry })
      const ratio = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", aspectRatio: "4:3" }).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      assert.strictEqual(ratio._tag, "UnsupportedCapability")
      assert.include(ratio.message, "use one of 1:1, 16:9")
      const n = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", n: 5 }).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      assert.strictEqual(n._tag, "UnsupportedCapability")
      assert.strictEqual((yield* Ref.get(a.calls)).length, 0)
    }))

  it.effect("a fallback that cannot serve the request fails the plan before any call", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", ["ok"])
      const b = yield* scripted("b", ["ok"], catalogFor("b", [{ id: "m1", capabilities: { seed: false } }]))
      const error = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", fallbacks: ["b:m1"], seed: 3 }).pipe(
        Effect.provide(routerLayer([a.service, b.service], { retry })),
        Effect.flip
      )
      assert.strictEqual(error._tag, "UnsupportedCapability")
      assert.strictEqual((yield* Ref.get(a.calls)).length, 0)
    }))

  it.effect("bad input is a typed InvalidRequest naming the field", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", ["ok"])
      const layer = routerLayer([a.service], { retry })
      const empty = yield* ImageGen.generate({ prompt: "   ", model: "a:m1" }).pipe(Effect.provide(layer), Effect.flip)
      assert.strictEqual(empty._tag, "InvalidRequest")
      assert.include(empty.message, "prompt")
      const n = yield* ImageGen.generate({ prompt: "x", n: 0 }).pipe(Effect.provide(layer), Effect.flip)
      assert.include(n.message, "n must be at least 1")
      const unknown = yield* ImageGen.generate({ prompt: "x", model: "nope:m" }).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      assert.strictEqual(unknown._tag, "UnknownProvider")
      assert.include(unknown.message, "installed providers: a")
      assert.isTrue(ImageError.isBadInput(unknown))
      assert.strictEqual((yield* Ref.get(a.calls)).length, 0)
    }))

  it.effect("the budget is checked before any call", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", ["ok"], catalogFor("a", [{ id: "m1", price: { perImage: 0.04 } }]))
      const error = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", n: 3 }, { budgetUsd: 0.1 }).pipe(
        Effect.provide(routerLayer([a.service], { retry })),
        Effect.flip
      )
      assert.strictEqual(error._tag, "BudgetExceeded")
      assert.strictEqual((yield* Ref.get(a.calls)).length, 0)
    }))

  it.effect("n above a model's per-call limit is split into bounded calls", () =>
    Effect.gen(function*() {
      const a = yield* scripted("a", ["ok"], catalogFor("a", [{ id: "m1", capabilities: { maxPerCall: 2 } }]))
      const result = yield* ImageGen.generate({ prompt: "cat", model: "a:m1", n: 5, seed: 10 }).pipe(
        Effect.provide(routerLayer([a.service], { retry }))
      )
      const calls = yield* Ref.get(a.calls)
      assert.deepStrictEqual(calls.map((c) => c.n).sort(), [1, 2, 2])
      // Seeds move on by the images of the calls before, so no two calls repeat an image.
      assert.deepStrictEqual(calls.map((c) => c.request.seed).sort(), [10, 12, 14])
      assert.strictEqual(result.images.length, 5)
      assert.closeTo(result.costUsd ?? 0, 0.05, 1e-9)
    }))
})

describe("ImageGen polling", () => {
  const queued = Polling.JobStatus.Queued({ position: 3 })
  const running = Polling.JobStatus.Running({ logs: ["step 1"], percent: 50 })
  const done = Polling.JobStatus.Completed({ output: "out" })

  it.effect("a failed status check is retried alone and never re-submits", () =>
    Effect.gen(function*() {
      const job = yield* scriptedJob("j", [queued, unavailable, running, done])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "j:job-model" }).pipe(
        Effect.provide(routerLayer([job.service], { retry })),
        Effect.fork
      )
      yield* TestClock.adjust(Duration.seconds(30))
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.requestId, "job-1")
      assert.strictEqual(yield* Ref.get(job.submits), 1)
      assert.strictEqual(yield* Ref.get(job.checks), 4)
    }))

  it.effect("status checks that keep failing end as JobFailed with the request id, still one submission", () =>
    Effect.gen(function*() {
      const job = yield* scriptedJob("j", [unavailable])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "j:job-model" }).pipe(
        Effect.provide(routerLayer([job.service], { retry })),
        Effect.flip,
        Effect.fork
      )
      yield* TestClock.adjust(Duration.minutes(5))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "JobFailed")
      assert.include(error.message, "job-1")
      assert.strictEqual(yield* Ref.get(job.submits), 1)
    }))

  it.effect("interrupting a polled job cancels it at the provider", () =>
    Effect.gen(function*() {
      const job = yield* scriptedJob("j", [queued])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "j:job-model" }).pipe(
        Effect.provide(routerLayer([job.service], { retry })),
        Effect.fork
      )
      yield* TestClock.adjust(Duration.seconds(5))
      assert.strictEqual(yield* Ref.get(job.cancels), 0)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* Ref.get(job.cancels), 1)
      assert.strictEqual(yield* Ref.get(job.submits), 1)
    }))

  it.effect("a job past its deadline fails with PollDeadline and is cancelled", () =>
    Effect.gen(function*() {
      const job = yield* scriptedJob("j", [running])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "j:job-model" }).pipe(
        Effect.provide(routerLayer([job.service], { retry })),
        Effect.flip,
        Effect.fork
      )
      yield* TestClock.adjust(Duration.minutes(2))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "PollDeadline")
      assert.include(error.message, "last status Running")
      assert.strictEqual(yield* Ref.get(job.cancels), 1)
    }))

  it.effect("a job reported failed is not retried", () =>
    Effect.gen(function*() {
      const job = yield* scriptedJob("j", [
        queued,
        Polling.JobStatus.Failed({
          error: new ImageError.ContentBlocked({ provider: "j", reason: "Request Moderated" })
        })
      ])
      const fiber = yield* ImageGen.generate({ prompt: "cat", model: "j:job-model" }).pipe(
        Effect.provide(routerLayer([job.service], { retry })),
        Effect.flip,
        Effect.fork
      )
      yield* TestClock.adjust(Duration.seconds(10))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "ContentBlocked")
      assert.include(error.message, "job-1")
      assert.strictEqual(yield* Ref.get(job.submits), 1)
    }))

  it.effect("progress is a stream: queued with position, running with logs, completed", () =>
    Effect.gen(function*() {
      const job = yield* scriptedJob("j", [queued, running, done])
      const fiber = yield* ImageGen.generateStream({ prompt: "cat", model: "j:job-model" }).pipe(
        Stream.runCollect,
        Effect.provide(routerLayer([job.service], { retry })),
        Effect.fork
      )
      yield* TestClock.adjust(Duration.seconds(10))
      const events = Array.from(yield* Fiber.join(fiber))
      assert.deepStrictEqual(events.map((e) => e._tag), ["Started", "Submitted", "Queued", "Running", "Completed"])
      const q = events[2]!
      assert.strictEqual(q._tag === "Queued" ? q.position : undefined, 3)
    }))
})

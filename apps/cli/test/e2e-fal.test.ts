/**
 * `image-gen generate` against fal.ai, end to end: the real provider wiring (`FalProvider.layerConfig`),
 * configured only by environment variables pointing at the fal fake on 127.0.0.1.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeFal from "@image-gen/fal/testing"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const key = "fal-e2e-key"

const envOf = (fal: FakeFal.Service, overrides: Record<string, string> = {}): Record<string, string> => ({
  FAL_KEY: key,
  FAL_QUEUE_URL: fal.queueUrl,
  FAL_REST_URL: fal.restUrl,
  FAL_POLL_INTERVAL: "10 millis",
  IMAGE_GEN_RETRY_MAX_WAIT: "2",
  ...overrides
})

const asRecord = (u: unknown): Record<string, unknown> => u as Record<string, unknown>

describe("image-gen generate with fal (e2e)", () => {
  it.scopedLive("generate: -n 2 --size --seed, files saved, JSON summary, parameters mapped", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse",
          "-m",
          "fal:flux",
          "--size",
          "512x384",
          "-n",
          "2",
          "--seed",
          "7",
          "-o",
          "out.png",
          "--json"
        ],
        { cwd, env: envOf(fal) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, name))), { width: 512, height: 384 })
      }
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "fal")
      assert.strictEqual(json.model, "fal-ai/flux/dev")
      assert.strictEqual(json.status, "completed")
      assert.closeTo(json.costUsd, 0.05, 1e-9, "2 images of at most 1 MP at $0.025/MP")
      assert.strictEqual(json.images.length, 2)

      assert.strictEqual(yield* fal.server.count(FakeFal.filters.submit), 1)
      const [job] = yield* fal.jobs
      assert.strictEqual(job!.endpoint, "fal-ai/flux/dev")
      const input = asRecord(job!.input)
      assert.deepStrictEqual(input.image_size, { width: 512, height: 384 })
      assert.strictEqual(input.num_images, 2)
      assert.strictEqual(input.seed, 7)
      assert.strictEqual(input.prompt, "a lighthouse")
    }))

  it.scopedLive("generate: --aspect-ratio 16:9 becomes fal's image_size preset", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a beach", "-m", "fal:flux", "--aspect-ratio", "16:9", "-o", "wide.png"],
        { cwd, env: envOf(fal) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      const [job] = yield* fal.jobs
      assert.strictEqual(asRecord(job!.input).image_size, "landscape_16_9")
      assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, "wide.png"))), { width: 1024, height: 576 })
    }))

  it.scopedLive("edit: --image is uploaded to fal storage and sent to the image-to-image endpoint", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      const cwd = yield* tempDir
      const png = FakeFal.renderPng(32, 32, [200, 40, 40])
      yield* writeFile(join(cwd, "in.png"), png)
      const run = yield* runConfigured(
        ["generate", "-p", "make it blue", "-m", "fal:flux", "--image", "in.png", "-o", "edited.png"],
        { cwd, env: envOf(fal) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      const uploads = yield* fal.uploads
      assert.strictEqual(uploads.size, 1)
      const [[fileUrl, upload]] = Array.from(uploads.entries())
      assert.strictEqual(upload.contentType, "image/png")
      assert.deepStrictEqual(upload.bytes, png)
      const [job] = yield* fal.jobs
      assert.strictEqual(job!.endpoint, "fal-ai/flux/dev/image-to-image")
      assert.strictEqual(asRecord(job!.input).image_url, fileUrl)
      assert.include(yield* listDir(cwd), "edited.png")
    }))

  it.scopedLive("edit with --mask: Ideogram's edit endpoint receives image_url and mask_url", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      const cwd = yield* tempDir
      yield* writeFile(join(cwd, "in.png"), FakeFal.renderPng(32, 32, [10, 120, 10]))
      yield* writeFile(join(cwd, "mask.png"), FakeFal.renderPng(32, 32, [255, 255, 255]))
      const run = yield* runConfigured(
        ["generate", "-p", "add a hat", "-m", "fal:ideogram", "--image", "in.png", "--mask", "mask.png", "-o", "e.png"],
        { cwd, env: envOf(fal) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual((yield* fal.uploads).size, 2)
      const [job] = yield* fal.jobs
      assert.strictEqual(job!.endpoint, "fal-ai/ideogram/v3/edit")
      const input = asRecord(job!.input)
      assert.isString(input.image_url)
      assert.isString(input.mask_url)
      assert.notStrictEqual(input.image_url, input.mask_url)
    }))

  it.scopedLive("content blocked: exit 3, one line, nothing written", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      yield* fal.enqueue({ queuePositions: [0], logs: [], outcome: FakeFal.contentPolicyViolation() })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "something", "-m", "fal:flux", "-o", "x.png"], {
        cwd,
        env: envOf(fal)
      })
      assertOneErrorLine(run, { code: 3, emptyStdout: true, match: /^image-gen: .*content blocked/ })
      assert.deepStrictEqual(yield* listDir(cwd), [])
      assert.strictEqual(yield* fal.server.count(FakeFal.filters.submit), 1, "a block is never retried")
    }))

  it.scopedLive("content blocked: every image flagged by the safety checker exits 3", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      yield* fal.enqueue({ queuePositions: [0], logs: [], nsfw: true })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "something", "-m", "fal:flux", "-o", "x.png"], {
        cwd,
        env: envOf(fal)
      })
      assertOneErrorLine(run, { code: 3, includes: ["has_nsfw_concepts"] })
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a 429 with Retry-After: 1 on submit is waited out: exit 0, two submissions", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      yield* fal.server.script(FakeFal.filters.submit, [FakeFal.rateLimited(1)])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "fal:flux", "-o", "x.png", "--json"], {
        cwd,
        env: envOf(fal)
      })
      assertRetriedAfterWait(run, yield* fal.server.count(FakeFal.filters.submit))
    }))

  it.scopedLive("a status poll failing once with 503 is retried alone: exit 0, one submission", () =>
    Effect.gen(function*() {
      // Without the SSE stream the provider polls, so the scripted 503 hits a poll.
      const fal = yield* FakeFal.make({ apiKey: key, statusStream: false })
      yield* fal.server.script(FakeFal.filters.status, [FakeFal.unavailable(503)])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "fal:flux", "-o", "x.png"], {
        cwd,
        env: envOf(fal)
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* fal.server.count(FakeFal.filters.submit), 1)
      assert.strictEqual(yield* fal.server.pendingScripts, 0, "the 503 was served")
      assert.isAtLeast(yield* fal.server.count(FakeFal.filters.status), 2)
      assert.deepStrictEqual(yield* listDir(cwd), ["x.png"])
    }))

  it.scopedLive("on a terminal the progress shows the queue position and the running logs", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      yield* fal.enqueue({ queuePositions: [2, 1], logs: ["Loading model", "Generating: 100%"] })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "fal:flux", "-o", "x.png"], {
        cwd,
        env: envOf(fal),
        tty: true
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.include(run.progress, "generating with fal:fal-ai/flux/dev")
      assert.include(run.progress, "queued at fal, position 2")
      assert.include(run.progress, "running at fal")
      assert.include(run.progress, "Generating: 100%")
      assert.isTrue(run.progress.endsWith("\r\u001b[2K"), "the status line is cleared at the end")
    }))

  it.scopedLive("FAL_DEADLINE: a job that does not finish in time exits 1 and is cancelled at fal", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key, statusStream: false })
      yield* fal.enqueue({ queuePositions: Array.from({ length: 10_000 }, () => 3) })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "fal:flux", "-o", "x.png"], {
        cwd,
        env: envOf(fal, { FAL_DEADLINE: "300 millis" })
      })
      assertOneErrorLine(run, { code: 1, match: /^image-gen: .*job not finished within 300ms, last status Queued/ })
      assert.strictEqual(yield* fal.server.count(FakeFal.filters.submit), 1, "a deadline is not retried")
      assert.strictEqual(yield* fal.server.count(FakeFal.filters.cancel), 1)
      assert.isTrue((yield* fal.jobs)[0]!.cancelled)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a wrong key exits 1 with one line naming FAL_KEY", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "fal:flux", "-o", "x.png"], {
        cwd,
        env: envOf(fal, { FAL_KEY: "wrong-key" })
      })
      assertOneErrorLine(run, { code: 1, match: /^image-gen: .*authentication failed.*FAL_KEY/ })
      assert.strictEqual(yield* fal.server.count(FakeFal.filters.submit), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("capability violations exit 2 and send nothing to fal", () =>
    Effect.gen(function*() {
      const fal = yield* FakeFal.make({ apiKey: key })
      const cwd = yield* tempDir
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "fal:flux-ultra", "--aspect-ratio", "5:4"], "aspect ratio 5:4"],
        [["-m", "fal:flux", "-n", "5"], "n 5"],
        [["-m", "fal:flux-schnell", "--image", "in.png"], "input image"],
        [["-m", "fal:flux", "--format", "webp"], "output format webp"]
      ]
      yield* writeFile(join(cwd, "in.png"), FakeFal.renderPng(8, 8, [0, 0, 0]))
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "a cat",
        cwd,
        env: envOf(fal),
        requestCount: fal.server.count(),
        alsoIncludes: ["not supported"],
        files: ["in.png"]
      })
    }))
})

/**
 * `image-gen generate` against Black Forest Labs, end to end: the real provider wiring
 * (`BflProvider.layerConfig`), configured only by environment variables pointing at the BFL fake on
 * 127.0.0.1.
 *
 * BFL has no environment variable for its poll cadence or deadline (default: 0.5 s growing to 2 s, and
 * 5 minutes), so most tests script a task that is `Ready` at the first poll to stay fast, and the deadline
 * itself cannot be exercised from the command line.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeBfl from "@image-gen/bfl/testing"
import * as Fault from "@image-gen/testing/Fault"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { listDir, pngSize, readFile, runConfigured, tempDir, writeFile } from "./utils/harness.js"

const key = "bfl-e2e-key"

const filters = {
  submit: { method: "POST", path: "/v1/:model" },
  poll: { method: "GET", path: "/:cluster/v1/get_result" }
} as const

const envOf = (bfl: FakeBfl.Service, overrides: Record<string, string> = {}): Record<string, string> => ({
  BFL_API_KEY: key,
  BFL_BASE_URL: bfl.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2",
  ...overrides
})

const ready: ReadonlyArray<FakeBfl.StatusStep> = [{ status: "Ready" }]

/** A fake whose next `n` tasks are `Ready` at their first poll. */
const quickFake = (n = 1) =>
  Effect.gen(function*() {
    const bfl = yield* FakeBfl.make({ apiKey: key })
    yield* bfl.enqueue(...Array.from({ length: n }, () => ready))
    return bfl
  })

describe("image-gen generate with bfl (e2e)", () => {
  it.scopedLive("generate: -n 2 --size --seed, files saved, JSON summary, parameters mapped", () =>
    Effect.gen(function*() {
      const bfl = yield* quickFake(2)
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a lighthouse",
          "-m",
          "bfl:flux-2-pro",
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
        { cwd, env: envOf(bfl) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.isDefined(pngSize(yield* readFile(join(cwd, name))), `${name} is a PNG`)
      }
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "bfl")
      assert.strictEqual(json.model, "flux-2-pro")
      assert.strictEqual(json.status, "completed")
      assert.closeTo(json.costUsd, 0.06, 1e-9, "3 credits per image under 1 MP, as the API reports")
      assert.strictEqual(json.images.length, 2)

      // n > 1 is one task per image, the seed moving on by one.
      const tasks = yield* bfl.tasks
      assert.strictEqual(tasks.length, 2)
      assert.strictEqual(yield* bfl.server.count(filters.submit), 2)
      for (const task of tasks) {
        assert.strictEqual(task.model, "flux-2-pro")
        assert.strictEqual(task.body.width, 512)
        assert.strictEqual(task.body.height, 384)
        assert.strictEqual(task.body.output_format, "png", "-o out.png asks for png")
      }
      assert.deepStrictEqual(tasks.map((t) => t.body.seed).sort(), [7, 8])
      const keys = (yield* bfl.server.requestsMatching(filters.submit)).map((r) => r.headers["x-key"])
      assert.deepStrictEqual(keys, [key, key])
    }))

  it.scopedLive("generate: --aspect-ratio on Kontext is sent as aspect_ratio", () =>
    Effect.gen(function*() {
      const bfl = yield* quickFake()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a beach", "-m", "bfl:kontext-pro", "--aspect-ratio", "16:9", "-o", "wide.png"],
        { cwd, env: envOf(bfl) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      const [task] = yield* bfl.tasks
      assert.strictEqual(task!.model, "flux-kontext-pro")
      assert.strictEqual(task!.body.aspect_ratio, "16:9")
      assert.isUndefined(task!.body.width)
    }))

  it.scopedLive("edit: --image is sent base64 as input_image; Fill takes --image and --mask", () =>
    Effect.gen(function*() {
      const bfl = yield* quickFake(3)
      const cwd = yield* tempDir
      const first = yield* runConfigured(["generate", "-p", "a cat", "-m", "bfl", "-o", "in.png"], {
        cwd,
        env: envOf(bfl)
      })
      assert.strictEqual(first.code, 0, first.stderr.join("\n"))
      const png = yield* readFile(join(cwd, "in.png"))
      const base64 = Buffer.from(png).toString("base64")

      const edit = yield* runConfigured(
        ["generate", "-p", "make it blue", "-m", "bfl:flux-2-pro", "--image", "in.png", "-o", "edited.png"],
        { cwd, env: envOf(bfl) }
      )
      assert.strictEqual(edit.code, 0, edit.stderr.join("\n"))
      yield* writeFile(join(cwd, "mask.png"), png)
      const fill = yield* runConfigured(
        ["generate", "-p", "a hat", "-m", "bfl:flux-fill", "--image", "in.png", "--mask", "mask.png", "-o", "f.png"],
        { cwd, env: envOf(bfl) }
      )
      assert.strictEqual(fill.code, 0, fill.stderr.join("\n"))

      const [, editTask, fillTask] = yield* bfl.tasks
      assert.strictEqual(editTask!.model, "flux-2-pro")
      assert.strictEqual(editTask!.body.input_image, base64)
      assert.strictEqual(fillTask!.model, "flux-pro-1.0-fill")
      assert.strictEqual(fillTask!.body.image, base64)
      assert.strictEqual(fillTask!.body.mask, base64)
      assert.deepStrictEqual(yield* listDir(cwd), ["edited.png", "f.png", "in.png", "mask.png"])
    }))

  it.scopedLive("content blocked: a moderated request exits 3 with one line, nothing written", () =>
    Effect.gen(function*() {
      const bfl = yield* FakeBfl.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "something [request-moderated]", "-m", "bfl", "-o", "x.png"],
        {
          cwd,
          env: envOf(bfl)
        }
      )
      assertOneErrorLine(run, {
        code: 3,
        emptyStdout: true,
        match: /^image-gen: bfl:flux-2-pro: content blocked .*Request Moderated/
      })
      assert.deepStrictEqual(yield* listDir(cwd), [])
      assert.strictEqual(yield* bfl.server.count(filters.submit), 1, "a block is never retried")
    }))

  it.scopedLive("a 429 with Retry-After: 1 on submit is waited out: exit 0, two submissions", () =>
    Effect.gen(function*() {
      const bfl = yield* quickFake()
      yield* bfl.server.script(filters.submit, [
        Fault.rateLimited({ retryAfterSeconds: 1, body: { detail: "Rate limit exceeded" } })
      ])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "bfl", "-o", "x.png", "--json"], {
        cwd,
        env: envOf(bfl)
      })
      assertRetriedAfterWait(run, yield* bfl.server.count(filters.submit))
      assert.strictEqual((yield* bfl.tasks).length, 1, "the rejected submission created no task")
    }))

  it.scopedLive("a status poll failing once with 503 is retried alone: exit 0, one submission", () =>
    Effect.gen(function*() {
      const bfl = yield* quickFake()
      yield* bfl.server.script(filters.poll, [Fault.status(503, { body: { detail: "Service Unavailable" } })])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "bfl", "-o", "x.png"], {
        cwd,
        env: envOf(bfl)
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* bfl.server.count(filters.submit), 1)
      assert.strictEqual(yield* bfl.server.pendingScripts, 0, "the 503 was served")
      assert.strictEqual(yield* bfl.server.count(filters.poll), 2)
      assert.deepStrictEqual(yield* listDir(cwd), ["x.png"])
    }))

  it.scopedLive("on a terminal the progress shows the queued and running states", () =>
    Effect.gen(function*() {
      const bfl = yield* FakeBfl.make({ apiKey: key })
      yield* bfl.enqueue([{ status: "Pending", progress: null }, { status: "Pending", progress: 0.5 }, {
        status: "Ready"
      }])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "bfl", "-o", "x.png"], {
        cwd,
        env: envOf(bfl),
        tty: true
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.include(run.progress, "generating with bfl:flux-2-pro")
      assert.include(run.progress, "queued at bfl")
      assert.include(run.progress, "running at bfl 50%")
      assert.isTrue(run.progress.endsWith("\r\u001b[2K"), "the status line is cleared at the end")
    }))

  it.scopedLive("a job that vanishes (Task not found) exits 1 with one line, submitted once", () =>
    Effect.gen(function*() {
      const bfl = yield* FakeBfl.make({ apiKey: key })
      yield* bfl.enqueue([{ status: "Task not found" }])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "bfl", "-o", "x.png"], {
        cwd,
        env: envOf(bfl)
      })
      assertOneErrorLine(run, { code: 1, match: /^image-gen: bfl:flux-2-pro: .*the job vanished/ })
      assert.strictEqual(yield* bfl.server.count(filters.submit), 1, "a failed job is not submitted again")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("BFL_DEADLINE bounds a job that never finishes: exit 1 naming the deadline, submitted once", () =>
    Effect.gen(function*() {
      const bfl = yield* FakeBfl.make({ apiKey: key })
      yield* bfl.enqueue(Array.from({ length: 500 }, () => ({ status: "Pending" as const, progress: 0.1 })))
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "bfl", "-o", "x.png"], {
        cwd,
        env: envOf(bfl, { BFL_DEADLINE: "400 millis" })
      })
      assertOneErrorLine(run, { code: 1, includes: ["job not finished within 400ms"] })
      assert.strictEqual(yield* bfl.server.count(filters.submit), 1)
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a wrong key exits 1 with one line naming BFL_API_KEY", () =>
    Effect.gen(function*() {
      const bfl = yield* FakeBfl.make({ apiKey: key })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "bfl", "-o", "x.png"], {
        cwd,
        env: envOf(bfl, { BFL_API_KEY: "wrong-key" })
      })
      assertOneErrorLine(run, { code: 1, match: /^image-gen: .*authentication failed.*BFL_API_KEY/ })
      assert.strictEqual(yield* bfl.server.count(filters.submit), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("capability violations exit 2 and send nothing to BFL", () =>
    Effect.gen(function*() {
      const bfl = yield* FakeBfl.make({ apiKey: key })
      const cwd = yield* tempDir
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "bfl:kontext-pro", "--aspect-ratio", "7:3"], "aspect ratio 7:3"],
        [["-m", "bfl", "-n", "9"], "n 9"],
        [["-m", "bfl", "--negative-prompt", "blur"], "negative prompt"],
        [["-m", "bfl:flux-1.1-pro", "--size", "2000x2000"], "size 2000x2000"]
      ]
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "a cat",
        cwd,
        env: envOf(bfl),
        requestCount: bfl.server.count(),
        alsoIncludes: ["not supported"],
        files: []
      })
    }))
})

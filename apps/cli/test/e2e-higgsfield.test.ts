/**
 * `image-gen generate` against Higgsfield, end to end: the real provider wiring
 * (`HiggsfieldProvider.layerConfig`), configured only by environment variables pointing at the Higgsfield
 * fake on 127.0.0.1.
 *
 * Higgsfield has no environment variable for its poll cadence (images: 1 s growing to 3 s) or deadline
 * (10 minutes), so most tests script a request that is `completed` at the first poll to stay fast, and the
 * deadline cannot be exercised from the command line.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeHiggsfield from "@image-gen/higgsfield/testing"
import * as Fault from "@image-gen/testing/Fault"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import * as Main from "../src/Main.js"
import { assertOneErrorLine, assertRefusedBeforeAnyRequest, assertRetriedAfterWait } from "./utils/harness.js"
import { captureConsole, listDir, pngSize, readFile, runConfigured, tempDir } from "./utils/harness.js"

const apiKey = "hf-e2e-key"
const apiSecret = "hf-e2e-secret"

const filters = {
  submit: (model: string) => ({ method: "POST", path: `/${model}` }),
  status: { method: "GET", path: "/requests/:id/status" },
  cancel: { method: "POST", path: "/requests/:id/cancel" },
  uploadUrl: { method: "POST", path: "/files/generate-upload-url" }
} as const

const soul = "higgsfield-ai/soul/standard"

const envOf = (fake: FakeHiggsfield.Service, overrides: Record<string, string> = {}): Record<string, string> => ({
  HIGGSFIELD_API_KEY: apiKey,
  HIGGSFIELD_API_SECRET: apiSecret,
  HIGGSFIELD_BASE_URL: fake.url,
  IMAGE_GEN_RETRY_MAX_WAIT: "2",
  ...overrides
})

const completed: ReadonlyArray<FakeHiggsfield.StatusStep> = [{ status: "completed" }]

/** A fake whose next `n` requests are `completed` at their first poll. */
const quickFake = (n = 1) =>
  Effect.gen(function*() {
    const fake = yield* FakeHiggsfield.make({ apiKey, apiSecret })
    yield* fake.enqueue(...Array.from({ length: n }, () => completed))
    return fake
  })

describe("image-gen generate with higgsfield (e2e)", () => {
  it.scopedLive("generate: -n 2 --size --seed, files saved, JSON summary, parameters mapped", () =>
    Effect.gen(function*() {
      const fake = yield* quickFake(2)
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a street portrait",
          "-m",
          "higgsfield:higgsfield-soul",
          "--size",
          "1920x1080",
          "-n",
          "2",
          "--seed",
          "7",
          "-o",
          "out.png",
          "--json"
        ],
        { cwd, env: envOf(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.deepStrictEqual(yield* listDir(cwd), ["out-1.png", "out-2.png"])
      for (const name of ["out-1.png", "out-2.png"]) {
        assert.isDefined(pngSize(yield* readFile(join(cwd, name))), `${name} is a PNG`)
      }
      assert.strictEqual(run.stdout.length, 1)
      const json = JSON.parse(run.stdout[0]!)
      assert.strictEqual(json.provider, "higgsfield")
      assert.strictEqual(json.model, soul)
      assert.strictEqual(json.status, "completed")
      assert.closeTo(json.costUsd, 0.125, 1e-9, "the catalog estimate, 2 x $0.0625")
      assert.strictEqual(json.images.length, 2)

      // n > 1 is one request per image, the seed moving on by one.
      assert.strictEqual(yield* fake.server.count(filters.submit(soul)), 2)
      const jobs = yield* fake.jobs
      for (const job of jobs) {
        assert.strictEqual(job.model, soul)
        assert.strictEqual(job.body.aspect_ratio, "16:9")
        assert.strictEqual(job.body.resolution, "1080p")
      }
      assert.deepStrictEqual(jobs.map((j) => j.body.seed).sort(), [7, 8])
      const auth = (yield* fake.server.requestsMatching(filters.submit(soul))).map((r) => r.headers.authorization)
      assert.deepStrictEqual(auth, [`Key ${apiKey}:${apiSecret}`, `Key ${apiKey}:${apiSecret}`])
    }))

  it.scopedLive("generate: --aspect-ratio and --resolution are sent as given", () =>
    Effect.gen(function*() {
      const fake = yield* quickFake()
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "a tall tower",
          "-m",
          "higgsfield",
          "--aspect-ratio",
          "9:16",
          "--resolution",
          "720p",
          "-o",
          "t.png"
        ],
        { cwd, env: envOf(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      const [job] = yield* fake.jobs
      assert.strictEqual(job!.body.aspect_ratio, "9:16")
      assert.strictEqual(job!.body.resolution, "720p")
    }))

  it.scopedLive("image-to-video: --image is uploaded and sent as image_url; the MP4 is saved", () =>
    Effect.gen(function*() {
      const fake = yield* quickFake(2)
      const cwd = yield* tempDir
      const first = yield* runConfigured(["generate", "-p", "a portrait", "-m", "higgsfield", "-o", "in.png"], {
        cwd,
        env: envOf(fake)
      })
      assert.strictEqual(first.code, 0, first.stderr.join("\n"))
      const png = yield* readFile(join(cwd, "in.png"))

      const run = yield* runConfigured(
        [
          "generate",
          "-p",
          "slow dolly in",
          "-m",
          "higgsfield:higgsfield-dop",
          "--image",
          "in.png",
          "-o",
          "clip.mp4",
          "--json"
        ],
        { cwd, env: envOf(fake) }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* fake.server.count(filters.uploadUrl), 1)
      const uploads = Array.from((yield* fake.uploads).entries())
      assert.strictEqual(uploads.length, 1)
      const [uploadKey, upload] = uploads[0]!
      assert.deepStrictEqual(upload.bytes, png)
      assert.strictEqual(upload.contentType, "image/png")
      const video = (yield* fake.jobs)[1]!
      assert.strictEqual(video.model, "higgsfield-ai/dop/lite")
      assert.strictEqual(video.body.image_url, `${fake.url}/cdn/uploads/${uploadKey}`)
      assert.strictEqual(JSON.parse(run.stdout[0]!).images[0].mediaType, "video/mp4")
      const clip = yield* readFile(join(cwd, "clip.mp4"))
      assert.strictEqual(Buffer.from(clip.subarray(4, 8)).toString("latin1"), "ftyp", "an MP4 container")
    }))

  it.scopedLive("content blocked: an nsfw request exits 3 with one line, nothing written", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make({ apiKey, apiSecret })
      yield* fake.enqueue([{ status: "nsfw" }])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "something", "-m", "higgsfield", "-o", "x.png"], {
        cwd,
        env: envOf(fake)
      })
      assertOneErrorLine(run, {
        code: 3,
        emptyStdout: true,
        match: /^image-gen: higgsfield:higgsfield-ai\/soul\/standard: content blocked .*nsfw/
      })
      assert.deepStrictEqual(yield* listDir(cwd), [])
      assert.strictEqual(yield* fake.server.count(filters.submit(soul)), 1, "a block is never retried")
    }))

  it.scopedLive("a 429 with Retry-After: 1 on submit is waited out: exit 0, two submissions", () =>
    Effect.gen(function*() {
      const fake = yield* quickFake()
      yield* fake.server.script(filters.submit(soul), [
        Fault.rateLimited({ retryAfterSeconds: 1, body: { detail: "Too many requests" } })
      ])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "higgsfield", "-o", "x.png", "--json"], {
        cwd,
        env: envOf(fake)
      })
      assertRetriedAfterWait(run, yield* fake.server.count(filters.submit(soul)))
      assert.strictEqual((yield* fake.jobs).length, 1, "the rejected submission created no request")
    }))

  it.scopedLive("a status poll failing once with 503 is retried alone: exit 0, one submission", () =>
    Effect.gen(function*() {
      const fake = yield* quickFake()
      yield* fake.server.script(filters.status, [Fault.status(503, { body: { detail: "Service Unavailable" } })])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "higgsfield", "-o", "x.png"], {
        cwd,
        env: envOf(fake)
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.strictEqual(yield* fake.server.count(filters.submit(soul)), 1)
      assert.strictEqual(yield* fake.server.pendingScripts, 0, "the 503 was served")
      assert.strictEqual(yield* fake.server.count(filters.status), 2)
      assert.deepStrictEqual(yield* listDir(cwd), ["x.png"])
    }))

  it.scopedLive("on a terminal the progress shows the queued and running states", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make({ apiKey, apiSecret })
      yield* fake.enqueue([{ status: "queued" }, { status: "in_progress" }, { status: "completed" }])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "higgsfield", "-o", "x.png"], {
        cwd,
        env: envOf(fake),
        tty: true
      })
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.include(run.progress, `generating with higgsfield:${soul}`)
      assert.include(run.progress, "queued at higgsfield")
      assert.include(run.progress, "running at higgsfield")
      assert.isTrue(run.progress.endsWith("\r\u001b[2K"), "the status line is cleared at the end")
    }))

  it.scopedLive("a failed request exits 1 with Higgsfield's error, submitted once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make({ apiKey, apiSecret })
      yield* fake.enqueue([{ status: "failed", error: "Generation failed: internal model error" }])
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "higgsfield", "-o", "x.png"], {
        cwd,
        env: envOf(fake)
      })
      assertOneErrorLine(run, { code: 1, match: /^image-gen: higgsfield:.*Generation failed: internal model error/ })
      assert.strictEqual(yield* fake.server.count(filters.submit(soul)), 1, "a failed job is not submitted again")
    }))

  it.scopedLive("a wrong secret exits 1 with one line naming the env vars", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make({ apiKey, apiSecret })
      const cwd = yield* tempDir
      const run = yield* runConfigured(["generate", "-p", "a cat", "-m", "higgsfield", "-o", "x.png"], {
        cwd,
        env: envOf(fake, { HIGGSFIELD_API_SECRET: "wrong" })
      })
      assertOneErrorLine(run, {
        code: 1,
        match: /^image-gen: .*authentication failed.*HIGGSFIELD_API_KEY/,
        includes: ["HIGGSFIELD_API_SECRET"]
      })
      assert.strictEqual(yield* fake.server.count(filters.submit(soul)), 1, "an auth error is not retried")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))

  it.scopedLive("a missing secret is a configuration error: exit 2, one line naming it, nothing sent", () =>
    Effect.gen(function*() {
      // The harness builds the services outside `Cli.run`; `Main.main` is what reports a failure to build
      // them, as the executable does.
      const fake = yield* FakeHiggsfield.make({ apiKey, apiSecret })
      const { HIGGSFIELD_API_SECRET: _, ...env } = envOf(fake)
      const { captured, console } = captureConsole()
      const code = yield* Main.main(["node", "image-gen", "generate", "-p", "a cat", "-m", "higgsfield"]).pipe(
        Effect.withConsole(console),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
      assert.strictEqual(code, 2, captured.stderr.join("\n"))
      assert.strictEqual(captured.stderr.length, 1)
      assert.match(captured.stderr[0]!, /^image-gen: invalid configuration: .*HIGGSFIELD_API_SECRET/)
      assert.deepStrictEqual(captured.stdout, [])
      assert.strictEqual(yield* fake.server.count(), 0)
    }))

  it.scopedLive("capability violations exit 2 and send nothing to Higgsfield", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHiggsfield.make({ apiKey, apiSecret })
      const cwd = yield* tempDir
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["-m", "higgsfield", "--aspect-ratio", "4:3"], "aspect ratio 4:3"],
        [["-m", "higgsfield", "-n", "5"], "n 5"],
        [["-m", "higgsfield", "--negative-prompt", "blur"], "negative prompt"],
        [["-m", "higgsfield:higgsfield-dop"], "input image"],
        [["-m", "higgsfield", "--format", "webp"], "output format webp"]
      ]
      yield* assertRefusedBeforeAnyRequest({
        cases,
        prompt: "a cat",
        cwd,
        env: envOf(fake),
        requestCount: fake.server.count(),
        alsoIncludes: ["not supported"]
      })
    }))
})

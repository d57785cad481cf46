/**
 * Fallback chains across real provider wiring, through the CLI, over loopback HTTP against the providers'
 * fakes: a job provider falling back to another job provider, and to a request/response provider.
 */
import { assert, describe, it } from "@effect/vitest"
import * as FakeFal from "@image-gen/fal/testing"
import * as FakeOpenAi from "@image-gen/openai/testing"
import * as FakeReplicate from "@image-gen/replicate/testing"
import * as Effect from "effect/Effect"
import * as path from "node:path"
import { listDir, pngSize, readFile, runConfigured, tempDir } from "./utils/harness.js"

const failingFal = FakeFal.make({
  apiKey: "fal-key",
  statusStream: false,
  scenario: {
    queuePositions: [0],
    logs: [],
    outcome: {
      _tag: "ModelError",
      status: 500,
      body: { detail: "runner crashed" },
      statusError: { error: "runner crashed", error_type: "runner_error" }
    }
  }
})

const falEnv = (fal: FakeFal.Service) => ({
  FAL_KEY: "fal-key",
  FAL_QUEUE_URL: fal.queueUrl,
  FAL_REST_URL: fal.restUrl,
  FAL_POLL_INTERVAL: "10 millis",
  IMAGE_GEN_RETRY_MAX_WAIT: "1"
})

describe("fallback chains through the CLI", () => {
  it.scopedLive("a failed fal job falls back to Replicate: one fal submission, one Replicate prediction", () =>
    Effect.gen(function*() {
      const fal = yield* failingFal
      const replicate = yield* FakeReplicate.make({})
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a lighthouse", "-m", "fal:flux", "--fallback", "replicate", "-o", "out.png", "--json"],
        { cwd, env: { ...falEnv(fal), REPLICATE_API_TOKEN: replicate.token, REPLICATE_BASE_URL: replicate.apiUrl } }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      const json = JSON.parse(run.stdout.join("\n")) as { provider: string; fallbackUsed: boolean; attempts: number }
      assert.strictEqual(json.provider, "replicate")
      assert.isTrue(json.fallbackUsed)
      // The fal job was accepted, so it was never submitted again; the fallback took over.
      assert.strictEqual(yield* fal.server.count({ method: "POST", path: "/queue/*" }), 1)
      assert.strictEqual(yield* replicate.server.count({ method: "POST", path: "/v1/*" }), 1)
      assert.deepStrictEqual(yield* listDir(cwd), ["out.png"])
      assert.isDefined(pngSize(yield* readFile(path.join(cwd, "out.png"))))
    }))

  it.scopedLive("a failed fal job falls back to OpenAI (job provider to request/response provider)", () =>
    Effect.gen(function*() {
      const fal = yield* failingFal
      const openai = yield* FakeOpenAi.make({ apiKey: "sk-test" })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a lighthouse", "-m", "fal:flux", "--fallback", "openai:gpt-image-2", "-o", "o.png"],
        { cwd, env: { ...falEnv(fal), OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: openai.url } }
      )
      assert.strictEqual(run.code, 0, run.stderr.join("\n"))
      assert.include(run.stdout.join("\n"), "openai:gpt-image-2")
      assert.include(run.stdout.join("\n"), "fallback used")
      assert.strictEqual(yield* fal.server.count({ method: "POST", path: "/queue/*" }), 1)
      assert.strictEqual(yield* openai.server.count(openai.routes.generations), 1)
    }))

  it.scopedLive("when every model fails the one line names each cause, exit code 1", () =>
    Effect.gen(function*() {
      const fal = yield* failingFal
      const openai = yield* FakeOpenAi.make({ apiKey: "sk-test" })
      const cwd = yield* tempDir
      const run = yield* runConfigured(
        ["generate", "-p", "a lighthouse", "-m", "fal:flux", "--fallback", "openai:gpt-image-2", "-o", "o.png"],
        { cwd, env: { ...falEnv(fal), OPENAI_API_KEY: "sk-wrong", OPENAI_BASE_URL: openai.url } }
      )
      assert.strictEqual(run.code, 1)
      const line = run.stderr.filter((l) => l.startsWith("image-gen:"))
      assert.strictEqual(line.length, 1)
      assert.include(line[0]!, "all 2 models failed")
      assert.include(line[0]!, "fal:")
      assert.include(line[0]!, "OPENAI_API_KEY")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }))
})

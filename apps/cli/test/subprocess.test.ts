/**
 * The real executable in a child process: `node --import tsx src/bin.ts` with the source condition, in a
 * temporary directory, stdio piped (so stderr is not a terminal).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { listDir, pngSize, readFile, tempDir } from "./utils/harness.js"

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

const spawn = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  Effect.async<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = execFile(
      process.execPath,
      ["--conditions=@image-gen/source", "--import", tsx, bin, ...args],
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          ...env
        },
        timeout: 30_000
      },
      (error, stdout, stderr) =>
        resume(Effect.succeed({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
          stdout,
          stderr
        }))
    )
    return Effect.sync(() => child.kill())
  })

describe("image-gen as a process", () => {
  it.scopedLive(
    "generate --json: exit 0, one JSON object on stdout, a PNG of the requested size",
    () =>
      Effect.gen(function*() {
        const cwd = yield* tempDir
        const result = yield* spawn(
          [
            "generate",
            "-p",
            "a lighthouse on a cliff at sunset",
            "--size",
            "256x128",
            "-o",
            "lighthouse.png",
            "--json"
          ],
          cwd,
          { IMAGE_GEN_LOG_FORMAT: "json" }
        )
        assert.strictEqual(result.code, 0, result.stderr)
        const stdout = result.stdout.trimEnd().split("\n")
        assert.strictEqual(stdout.length, 1, result.stdout)
        const json = JSON.parse(stdout[0]!)
        assert.strictEqual(json.provider, "local")
        assert.strictEqual(json.images[0].path, join(cwd, "lighthouse.png"))
        assert.deepStrictEqual(pngSize(yield* readFile(join(cwd, "lighthouse.png"))), { width: 256, height: 128 })
        // stderr: the default-model notice, then the canonical request record as one JSON line.
        const stderr = result.stderr.trimEnd().split("\n")
        assert.strictEqual(stderr.length, 2, result.stderr)
        assert.strictEqual(
          stderr[0],
          "No model given and no provider key set: using the offline local provider (local:placeholder-1)."
        )
        const record = JSON.parse(stderr[1]!)
        assert.strictEqual(record.message, "image_gen.request")
        assert.strictEqual(record.annotations.status, "completed")
        assert.strictEqual(record.annotations.request_id, json.requestId)
      }),
    60_000
  )

  it.scopedLive("a parse error exits 2 with exactly one line on stderr", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const result = yield* spawn(["generate", "--size", "64x64"], cwd)
      assert.strictEqual(result.code, 2)
      assert.strictEqual(result.stdout, "")
      assert.strictEqual(result.stderr, "image-gen: Expected to find option: '--prompt'\n")
      assert.deepStrictEqual(yield* listDir(cwd), [])
    }), 60_000)
})

import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { listDir, runCli, tempDir, writeFile } from "./utils/harness.js"
import * as StubProvider from "./utils/StubProvider.js"

/** `[args, what the one stderr line must contain]`; each must exit 2 and write nothing. */
const badInput: ReadonlyArray<readonly [ReadonlyArray<string>, string | RegExp]> = [
  [["generate", "-p", ""], "image-gen: invalid request: prompt must not be empty"],
  [["generate", "-p", "   "], "image-gen: invalid request: prompt must not be empty"],
  [["generate", "-p", "x", "-m", "nope:model"], /^image-gen: unknown provider "nope"; installed providers: local\b/],
  [["generate", "-p", "x", "-m", "local:nope"], /^image-gen: unknown model "local:nope"/],
  [["generate", "-p", "x", "-m", "local", "--fallback", "nope:x"], /unknown provider "nope"/],
  [
    ["generate", "-p", "x", "--size", "5000x5000"],
    "size 5000x5000 is not supported; use sides of at most 4096px"
  ],
  [["generate", "-p", "x", "--size", "big"], "image-gen: invalid request: size must be WIDTHxHEIGHT in pixels"],
  [["generate", "-p", "x", "--format", "svg"], "output format svg is not supported; use one of png, jpeg, webp"],
  [["generate", "-p", "x", "--format", "gif"], "image-gen: invalid request: format must be one of png, jpeg, webp"],
  [
    ["generate", "-p", "x", "--aspect-ratio", "16-9"],
    "image-gen: invalid request: aspect ratio must be W:H, e.g. 16:9"
  ],
  [["generate", "-p", "x", "--resolution", "8K"], "image-gen: invalid request: resolution must be one of"],
  [["generate", "-p", "x", "-n", "0"], "image-gen: invalid request: n must be at least 1"],
  [["generate", "-p", "x", "-n", "99"], "image-gen: invalid request: n must be at most 16"],
  [
    ["generate", "-p", "x", "--seed", "5000000000"],
    "image-gen: invalid request: seed must be an integer from 0 to 4294967295"
  ],
  [
    ["generate", "-p", "x", "--image", "missing.png"],
    /^image-gen: cannot read input image missing\.png: no such file$/
  ],
  [
    ["generate", "-p", "x", "--image", "notes.txt"],
    "cannot read input image notes.txt: not a PNG, JPEG, WebP or GIF image"
  ],
  [["generate", "-p", "x", "--image", "sub"], "cannot read input image sub: is a directory"],
  [["generate", "-p", "x", "--mask", "missing.png"], "cannot read mask missing.png: no such file"],
  [
    ["generate", "-p", "x", "-o", "missing/x.png"],
    /^image-gen: invalid request: output path: directory .*missing does not exist$/
  ],
  [["generate", "-p", "x", "-o", "sub"], /^image-gen: invalid request: output path: .*sub is a directory$/],
  // @effect/cli's own parse errors
  [["generate"], "image-gen: Expected to find option: '--prompt'"],
  [["generate", "-p"], "image-gen: Expected a value following option: '--prompt'"],
  [["generate", "-p", "x", "--bogus"], "image-gen: Received unknown argument: '--bogus'"],
  [["generate", "-p", "x", "-n", "abc"], "image-gen: 'abc' is not a integer"],
  [["generate", "-p", "x", "extra"], "image-gen: Received unknown argument: 'extra'"],
  [["bogus"], /^image-gen: Invalid subcommand for image-gen - use one of 'generate', 'models'$/],
  [["models", "--provider", "nope"], /^image-gen: unknown provider "nope"; installed providers: local\b/]
]

describe("bad input exits 2 with one line and writes nothing", () => {
  for (const [args, expected] of badInput) {
    it.scopedLive(args.join(" ") || "(no arguments)", () =>
      Effect.gen(function*() {
        const cwd = yield* tempDir
        yield* writeFile(join(cwd, "notes.txt"), "not an image")
        yield* Effect.promise(() => import("node:fs/promises").then((fs) => fs.mkdir(join(cwd, "sub"))))
        const before = yield* listDir(cwd)
        const result = yield* runCli(args, { cwd })
        assert.strictEqual(result.code, 2, result.stderr.join("\n"))
        const errors = result.stderr.filter((line) => !line.startsWith("No model given"))
        assert.strictEqual(errors.length, 1, result.stderr.join("\n"))
        if (typeof expected === "string") assert.include(errors[0], expected)
        else assert.match(errors[0]!, expected)
        assert.notInclude(errors[0], "\n")
        assert.notInclude(errors[0], "    at ", "no stack trace")
        assert.deepStrictEqual(result.stdout, [])
        assert.deepStrictEqual(yield* listDir(cwd), before)
      }))
  }

  it.scopedLive("nothing is sent to the provider", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDir
      const stub = StubProvider.make()
      for (
        const args of [
          ["-p", ""],
          ["-p", "x", "-n", "0"],
          ["-p", "x", "--aspect-ratio", "16-9"],
          ["-p", "x", "--image", "missing.png"],
          ["-p", "x", "-o", "missing/x.png"],
          ["-p", "x", "--fallback", "nope:x"]
        ]
      ) {
        const result = yield* runCli(["generate", "-m", "stub:ok", ...args], { cwd, providers: [stub.layer] })
        assert.strictEqual(result.code, 2, args.join(" "))
      }
      assert.strictEqual(stub.calls.length, 0)
    }))
})

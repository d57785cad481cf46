/**
 * Runs the CLI in-process: a temporary working directory, a console that captures stdout and stderr, the
 * router over the given providers, and an explicit environment (the real one is ignored).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert } from "@effect/vitest"
import { ImageGen, type ImageProvider } from "@image-gen/core"
import { LocalProvider } from "@image-gen/local"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { format } from "node:util"
import * as Cli from "../../src/Cli.js"
import * as CliEnv from "../../src/CliEnv.js"
import * as Observability from "../../src/Observability.js"
import * as Providers from "../../src/Providers.js"

export interface Captured {
  readonly stdout: Array<string>
  readonly stderr: Array<string>
}

/** An Effect `Console` that records `log`/`info` as stdout and `error`/`warn` as stderr lines. */
export const captureConsole = (): { readonly console: Console.Console; readonly captured: Captured } => {
  const captured: Captured = { stdout: [], stderr: [] }
  const out = (...args: ReadonlyArray<unknown>) => {
    captured.stdout.push(format(...args))
  }
  const err = (...args: ReadonlyArray<unknown>) => {
    captured.stderr.push(format(...args))
  }
  const ignore = () => {}
  const unsafe: Console.UnsafeConsole = {
    assert: ignore,
    clear: ignore,
    count: ignore,
    countReset: ignore,
    debug: err,
    dir: out,
    dirxml: out,
    error: err,
    group: ignore,
    groupCollapsed: ignore,
    groupEnd: ignore,
    info: out,
    log: out,
    table: out,
    time: ignore,
    timeEnd: ignore,
    timeLog: ignore,
    trace: err,
    warn: err
  }
  const console: Console.Console = {
    [Console.TypeId]: Console.TypeId,
    assert: (condition, ...args) => Effect.sync(() => unsafe.assert(condition, ...args)),
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: (...args) => Effect.sync(() => unsafe.debug(...args)),
    dir: (item) => Effect.sync(() => unsafe.dir(item)),
    dirxml: (...args) => Effect.sync(() => unsafe.dirxml(...args)),
    error: (...args) => Effect.sync(() => unsafe.error(...args)),
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: (...args) => Effect.sync(() => unsafe.info(...args)),
    log: (...args) => Effect.sync(() => unsafe.log(...args)),
    table: (data) => Effect.sync(() => unsafe.table(data)),
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: () => Effect.void,
    trace: (...args) => Effect.sync(() => unsafe.trace(...args)),
    warn: (...args) => Effect.sync(() => unsafe.warn(...args)),
    unsafe
  }
  return { console, captured }
}

export interface RunOptions {
  readonly cwd: string
  readonly providers?: ReadonlyArray<Layer.Layer<ImageProvider.ImageProvider>> | undefined
  readonly router?: ImageGen.Options | undefined
  readonly tty?: boolean | undefined
  readonly env?: Record<string, string> | undefined
}

export interface RunResult {
  readonly code: number
  /** Lines printed on stdout. */
  readonly stdout: ReadonlyArray<string>
  /** Lines printed on stderr through the console (errors, notices, logs). */
  readonly stderr: ReadonlyArray<string>
  /** Raw progress output written to the terminal. */
  readonly progress: string
}

/** `image-gen <args>` in-process. */
export const runCli = (args: ReadonlyArray<string>, options: RunOptions): Effect.Effect<RunResult> =>
  Effect.gen(function*() {
    const { captured, console } = captureConsole()
    let progress = ""
    const services = Layer.mergeAll(
      ImageGen.layer(options.providers ?? [LocalProvider.layer()], options.router ?? {}),
      CliEnv.layer({ cwd: options.cwd, stderrIsTTY: options.tty ?? false, write: (text) => (progress += text) })
    ).pipe(Layer.provideMerge(Layer.mergeAll(NodeContext.layer, FetchHttpClient.layer)))
    const code = yield* Cli.run(["node", "image-gen", ...args]).pipe(
      Effect.provide(services),
      Effect.provide(Observability.layerLogger),
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env ?? {})))),
      Effect.orDie
    )
    return { code, stdout: captured.stdout, stderr: captured.stderr, progress }
  })

/** A fresh temporary directory, removed with the scope. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.makeTempDirectoryScoped({ prefix: "image-gen-cli-" })
}).pipe(Effect.provide(NodeContext.layer), Effect.orDie)

/** The names in a directory, sorted (hidden files included). */
export const listDir = (dir: string): Effect.Effect<Array<string>> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return (yield* fs.readDirectory(dir)).sort()
  }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)

export const readFile = (path: string): Effect.Effect<Uint8Array> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return yield* fs.readFile(path)
  }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)

export const writeFile = (path: string, data: Uint8Array | string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFile(path, typeof data === "string" ? new TextEncoder().encode(data) : data)
  }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** Width and height of a PNG from its IHDR chunk, or `undefined` when the bytes are not a PNG. */
export const pngSize = (bytes: Uint8Array): { readonly width: number; readonly height: number } | undefined => {
  if (bytes.length < 24 || !pngSignature.every((b, i) => bytes[i] === b)) return undefined
  if (new TextDecoder().decode(bytes.subarray(12, 16)) !== "IHDR") return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { width: view.getUint32(16), height: view.getUint32(20) }
}

export interface ConfiguredOptions {
  readonly cwd: string
  /** The whole environment the CLI sees: provider keys and base URLs pointing at fakes. */
  readonly env: Record<string, string>
  readonly tty?: boolean | undefined
}

export interface ConfiguredResult extends RunResult {
  /** How long the run took, in milliseconds. */
  readonly elapsedMs: number
}

/**
 * `image-gen <args>` in-process with the real provider wiring (`Providers.all`, each provider's
 * `layerConfig`), configured only by `env`: the way a user runs it with keys and base URLs set.
 */
export const runConfigured = (
  args: ReadonlyArray<string>,
  options: ConfiguredOptions
): Effect.Effect<ConfiguredResult> =>
  Effect.gen(function*() {
    const started = Date.now()
    const { captured, console } = captureConsole()
    let progress = ""
    const services = Layer.mergeAll(
      Providers.layer(Providers.all),
      CliEnv.layer({ cwd: options.cwd, stderrIsTTY: options.tty ?? false, write: (text) => (progress += text) })
    ).pipe(Layer.provideMerge(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici)))
    const code = yield* Cli.run(["node", "image-gen", ...args]).pipe(
      Effect.provide(services),
      Effect.provide(Observability.layerLogger),
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env)))),
      Effect.orDie
    )
    return { code, stdout: captured.stdout, stderr: captured.stderr, progress, elapsedMs: Date.now() - started }
  })

export interface OneErrorLine {
  readonly code: number
  /** What the one stderr line must match (e.g. `/^image-gen: /`). */
  readonly match?: RegExp | undefined
  readonly includes?: ReadonlyArray<string> | undefined
  readonly excludes?: ReadonlyArray<string> | undefined
  /** Also assert that nothing was printed on stdout. */
  readonly emptyStdout?: boolean | undefined
}

/** Asserts the exit code and exactly one stderr line matching `match`, naming each `includes` and no `excludes`. */
export const assertOneErrorLine = (run: RunResult, expected: OneErrorLine): void => {
  assert.strictEqual(run.code, expected.code, run.stderr.join("\n"))
  if (expected.emptyStdout) assert.deepStrictEqual(run.stdout, [])
  assert.strictEqual(run.stderr.length, 1)
  if (expected.match) assert.match(run.stderr[0]!, expected.match)
  for (const text of expected.includes ?? []) assert.include(run.stderr[0]!, text)
  for (const text of expected.excludes ?? []) assert.notInclude(run.stderr[0]!, text)
}

export interface Refusals {
  /** Each case: the extra `generate` arguments, and what the error line must mention. */
  readonly cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]>
  readonly prompt: string
  readonly cwd: string
  readonly env: Record<string, string>
  /** How many requests the fake has received so far. */
  readonly requestCount: Effect.Effect<number>
  /** Text every error line must include besides its mention (e.g. "not supported"). */
  readonly alsoIncludes?: ReadonlyArray<string> | undefined
  /** Also assert that nothing was printed on stdout. */
  readonly emptyStdout?: boolean | undefined
  /** When given, the working directory must hold exactly these names afterwards. */
  readonly files?: ReadonlyArray<string> | undefined
}

/** Runs each case as `generate -p <prompt> <args> -o x.png`: exit 2, one line with its mention, no request sent. */
export const assertRefusedBeforeAnyRequest = (options: Refusals): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (const [args, mention] of options.cases) {
      const run = yield* runConfigured(["generate", "-p", options.prompt, ...args, "-o", "x.png"], options)
      const label = args.join(" ")
      assert.strictEqual(run.code, 2, `${label}: ${run.stderr.join("\n")}`)
      assert.strictEqual(run.stderr.length, 1, label)
      for (const text of [mention, ...(options.alsoIncludes ?? [])]) assert.include(run.stderr[0]!, text, label)
      if (options.emptyStdout) assert.deepStrictEqual(run.stdout, [])
    }
    assert.strictEqual(yield* options.requestCount, 0)
    if (options.files) assert.deepStrictEqual(yield* listDir(options.cwd), options.files)
  })

/** Asserts success on the second attempt (`submissions` sent, `--json` attempts 2) after waiting out Retry-After: 1. */
export const assertRetriedAfterWait = (run: ConfiguredResult, submissions: number): void => {
  assert.strictEqual(run.code, 0, run.stderr.join("\n"))
  assert.isAtLeast(run.elapsedMs, 900, "waited for Retry-After")
  assert.strictEqual(submissions, 2)
  assert.strictEqual(JSON.parse(run.stdout[0]!).attempts, 2)
}

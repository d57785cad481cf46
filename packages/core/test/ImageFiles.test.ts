import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as ImageFiles from "../src/ImageFiles.js"
import * as ImageGen from "../src/ImageGen.js"

const body = Buffer.alloc(200_000, 7)

/** /ok serves an image; /cut resets mid-body once, then serves; /html answers 200 text/html; /gone 404. */
const server = Effect.acquireRelease(
  Effect.async<{ server: http.Server; hits: Map<string, number> }>((resume) => {
    const hits = new Map<string, number>()
    const s = http.createServer((req, res) => {
      const route = req.url!.split("?")[0]!
      const n = (hits.get(route) ?? 0) + 1
      hits.set(route, n)
      if (route === "/html") {
        res.writeHead(200, { "content-type": "text/html" })
        return res.end("<html>expired</html>")
      }
      if (route === "/gone") {
        res.writeHead(404, { "content-type": "text/plain" })
        return res.end("not found")
      }
      res.writeHead(200, { "content-type": "image/png", "content-length": String(body.length) })
      if ((route === "/cut" && n === 1) || route === "/always-cut") {
        res.write(body.subarray(0, 50_000))
        setTimeout(() => res.destroy(), 10)
        return
      }
      res.end(body)
    })
    s.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server: s, hits })))
  }),
  ({ server: s }) =>
    Effect.async<void>((resume) => {
      s.close(() => resume(Effect.void))
    })
)

const Live = Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici)
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "image-gen-files-"))

describe("ImageFiles", () => {
  it.scopedLive("streams a URL to a file atomically and retries a download cut mid-body by itself", () =>
    Effect.gen(function*() {
      const { hits, server: s } = yield* server
      const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
      const dir = tempDir()
      const saved = yield* ImageFiles.saveUrl(`${base}/cut`, path.join(dir, "a.png"))
      assert.strictEqual(saved.size, body.length)
      const written = fs.readFileSync(path.join(dir, "a.png"))
      assert.strictEqual(written.length, body.length)
      assert.isTrue(written.equals(body))
      assert.strictEqual(hits.get("/cut"), 2)
      assert.deepStrictEqual(fs.readdirSync(dir), ["a.png"])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a download that keeps failing leaves nothing behind and says which request it was", () =>
    Effect.gen(function*() {
      const { server: s } = yield* server
      const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
      const dir = tempDir()
      const error = yield* Effect.flip(
        ImageFiles.saveUrl(`${base}/always-cut`, path.join(dir, "b.png"), {
          provider: "p",
          requestId: "req-9",
          retry: { attempts: 2, maxWait: "10 millis", baseDelay: "1 millis" }
        })
      )
      assert.strictEqual(error._tag, "DownloadFailed")
      assert.include(error.message, "req-9")
      assert.deepStrictEqual(fs.readdirSync(dir), [])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("refuses a non-image answer and an expired URL", () =>
    Effect.gen(function*() {
      const { server: s } = yield* server
      const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
      const html = yield* Effect.flip(ImageFiles.download(`${base}/html`))
      assert.include(html.message, "expected an image, got text/html")
      const gone = yield* Effect.flip(ImageFiles.download(`${base}/gone?token=secret`))
      assert.include(gone.message, "gone or expired")
      assert.notInclude(gone.message, "secret")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("decodes data URLs without any network", () =>
    Effect.gen(function*() {
      const { bytes, mediaType } = yield* ImageFiles.download("data:image/png;base64,iVBORw0K")
      assert.strictEqual(mediaType, "image/png")
      assert.strictEqual(bytes[1], 0x50)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("checkWritable refuses a missing directory and a directory target, writing nothing", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const missing = yield* Effect.flip(ImageFiles.checkWritable(path.join(dir, "nope", "x.png")))
      assert.include(missing.message, "does not exist")
      const isDir = yield* Effect.flip(ImageFiles.checkWritable(dir))
      assert.include(isDir.message, "is a directory")
      yield* ImageFiles.checkWritable(path.join(dir, "ok.png"))
      assert.deepStrictEqual(fs.readdirSync(dir), [])
    }).pipe(Effect.provide(Live)))

  it("numbers files only when there are several", () => {
    assert.strictEqual(ImageGen.numbered("out.png", 0, 1), "out.png")
    assert.strictEqual(ImageGen.numbered("dir.v2/out.png", 1, 3), "dir.v2/out-2.png")
    assert.strictEqual(ImageGen.numbered("dir.v2/out", 0, 2), "dir.v2/out-1")
  })
})

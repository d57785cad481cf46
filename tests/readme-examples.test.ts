// Every complete program in a package README (a ```ts block that runs itself with `runMain`) must run.
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const tsx = path.join(root, "node_modules", ".bin", "tsx")

const examples = ["packages", "apps"].flatMap((group) =>
  fs.readdirSync(path.join(root, group)).flatMap((pkg) => {
    const readme = path.join(root, group, pkg, "README.md")
    if (!fs.existsSync(readme)) return []
    const blocks = Array.from(fs.readFileSync(readme, "utf8").matchAll(/```ts\n([\s\S]*?)```/g), (m) => m[1]!)
    return blocks
      .filter((code) => code.includes("runMain") || code.includes("Effect.runPromise"))
      .map((code, i) => ({ name: `${group}/${pkg} example ${i + 1}`, dir: path.join(root, group, pkg), code }))
  })
)

describe("README examples", () => {
  it("finds the examples", () => {
    assert.isAtLeast(examples.length, 3)
  })
  for (const example of examples) {
    it(`${example.name} runs`, async () => {
      // The file sits in the package so imports resolve; it runs in a temp dir so its output lands there.
      const file = path.join(example.dir, `.readme-example-${process.pid}-${Math.random().toString(36).slice(2)}.ts`)
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "image-gen-readme-"))
      fs.writeFileSync(file, example.code)
      try {
        const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
          execFile(
            tsx,
            ["--conditions=@image-gen/source", file],
            { cwd, timeout: 60_000 },
            (error, _stdout, stderr) =>
              resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stderr })
          )
        })
        assert.strictEqual(result.code, 0, result.stderr)
      } finally {
        fs.rmSync(file, { force: true })
      }
    })
  }
})

import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Catalog from "../src/Catalog.js"
import type * as ImageError from "../src/ImageError.js"
import * as ImageGen from "../src/ImageGen.js"
import * as ImageProvider from "../src/ImageProvider.js"
import { GeneratedImage } from "../src/ImageResult.js"
import type { ProviderResult } from "../src/ImageResult.js"
import * as Polling from "../src/Polling.js"

export const catalogFor = (
  provider: string,
  models: ReadonlyArray<Partial<Catalog.ModelEntry> & { readonly id: string }>
): Catalog.CatalogFile => ({
  provider,
  acceptsUnknownModels: true,
  models: models.map((m) => ({
    shorthands: [],
    output: "image" as const,
    capabilities: {},
    lifecycle: { status: "current" as const },
    ...m
  }))
})

export const image = (n = 0) =>
  new GeneratedImage({ bytes: new Uint8Array([137, 80, 78, 71, n]), mediaType: "image/png", width: 8, height: 8 })

/** A sync provider answering from a script: each call takes the next outcome; the last one repeats. */
export const scripted = (
  id: string,
  outcomes: ReadonlyArray<ImageError.ImageError | "ok">,
  catalog: Catalog.CatalogFile = catalogFor(id, [{ id: "m1", shorthands: [`${id}-short`] }])
) =>
  Effect.gen(function*() {
    const calls = yield* Ref.make<Array<ImageProvider.ProviderCall>>([])
    const service = ImageProvider.make({
      id,
      catalog,
      generate: (call) =>
        Ref.modify(calls, (cs) => [cs.length, [...cs, call]]).pipe(
          Effect.flatMap((i) => {
            const outcome = outcomes[Math.min(i, outcomes.length - 1)]!
            return outcome === "ok"
              ? Effect.succeed<ProviderResult>({
                requestId: `${id}-${i}`,
                images: Array.from({ length: call.n }, (_, k) => image(k)),
                costUsd: 0.01 * call.n
              })
              : Effect.fail(outcome)
          })
        )
    })
    return { service, calls }
  })

export type JobScriptStep = Polling.JobStatus<string> | ImageError.ImageError

/** A job provider over `Polling.run`: counts submissions, status checks and cancels. */
export const scriptedJob = (
  id: string,
  statuses: ReadonlyArray<JobScriptStep>,
  options: Polling.PollOptions = { schedule: Schedule.spaced(Duration.seconds(1)), deadline: Duration.minutes(1) }
) =>
  Effect.gen(function*() {
    const submits = yield* Ref.make(0)
    const checks = yield* Ref.make(0)
    const cancels = yield* Ref.make(0)
    const service = ImageProvider.make({
      id,
      catalog: catalogFor(id, [{ id: "job-model" }]),
      generate: (call) =>
        Polling.run({
          provider: id,
          model: call.model,
          submit: Ref.updateAndGet(submits, (n) => n + 1).pipe(Effect.map((n) => `job-${n}`)),
          requestId: (handle) => handle,
          status: () =>
            Ref.getAndUpdate(checks, (n) => n + 1).pipe(
              Effect.flatMap((i) => {
                const step = statuses[Math.min(i, statuses.length - 1)]!
                return "retryable" in step
                  ? Effect.fail(step as ImageError.ImageError)
                  : Effect.succeed(step as Polling.JobStatus<string>)
              })
            ),
          result: (_handle, output) => Effect.succeed({ images: [image()], raw: output }),
          cancel: () => Ref.update(cancels, (n) => n + 1)
        }, options)
    })
    return { service, submits, checks, cancels }
  })

export const routerLayer = (
  services: ReadonlyArray<ImageProvider.Service>,
  options: ImageGen.Options = {}
) =>
  Layer.effect(ImageGen.ImageGen, ImageGen.make(services, options)).pipe(
    Layer.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))
  )

#!/usr/bin/env node
/**
 * The `image-gen` executable.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as ExitCode from "./ExitCode.js"
import * as Main from "./Main.js"

Main.main(process.argv).pipe(
  // Set the code and let Node exit on its own, so stdout and stderr are flushed first.
  Effect.flatMap((code) =>
    Effect.sync(() => {
      process.exitCode = code
    })
  ),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    // Logging is set up by Observability.layerLogger (stderr only); the pretty logger would add a second copy.
    disablePrettyLogger: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? ExitCode.Success
          : Cause.isInterruptedOnly(exit.cause)
          ? ExitCode.Interrupted
          : ExitCode.Failure
      )
  })
)

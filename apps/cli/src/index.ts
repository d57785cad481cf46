/**
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
export * as CliEnv from "./CliEnv.js"
export * as CliError from "./CliError.js"
export * as ExitCode from "./ExitCode.js"
export * as Generate from "./Generate.js"
export * as InputImages from "./InputImages.js"
export * as Main from "./Main.js"
export * as Models from "./Models.js"
export * as Observability from "./Observability.js"
export * as ProgressView from "./ProgressView.js"
export * as Providers from "./Providers.js"

/**
 * @since 0.1.0
 */
export * as Catalog from "./Catalog.js"
export * as ImageError from "./ImageError.js"
export * as ImageFiles from "./ImageFiles.js"
export * as ImageGen from "./ImageGen.js"
export * as ImageProvider from "./ImageProvider.js"
export * as ImageRequest from "./ImageRequest.js"
export * as ImageResult from "./ImageResult.js"
export * as Polling from "./Polling.js"
export * as Progress from "./Progress.js"
export * as ProviderHttp from "./ProviderHttp.js"
export * as Retry from "./Retry.js"
export * as Telemetry from "./Telemetry.js"

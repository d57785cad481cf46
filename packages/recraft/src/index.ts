/**
 * @since 0.1.0
 */
export * as RecraftClient from "./RecraftClient.js"

/**
 * @since 0.1.0
 */
export * as RecraftProvider from "./RecraftProvider.js"

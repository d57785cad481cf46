/**
 * @since 0.1.0
 */
export * as OpenAiClient from "./OpenAiClient.js"

/**
 * @since 0.1.0
 */
export * as OpenAiCompatibleProvider from "./OpenAiCompatibleProvider.js"

/**
 * @since 0.1.0
 */
export * as OpenAiProvider from "./OpenAiProvider.js"

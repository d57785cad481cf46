/**
 * @since 0.1.0
 */
export * as LocalProvider from "./LocalProvider.js"

/**
 * @since 0.1.0
 */
export * as LocalRenderer from "./LocalRenderer.js"

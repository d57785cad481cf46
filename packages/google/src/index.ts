/**
 * @since 0.1.0
 */
export * as GoogleClient from "./GoogleClient.js"

/**
 * @since 0.1.0
 */
export * as GoogleConfig from "./GoogleConfig.js"

/**
 * @since 0.1.0
 */
export * as GoogleCredentials from "./GoogleCredentials.js"

/**
 * @since 0.1.0
 */
export * as GoogleImageModel from "./GoogleImageModel.js"

/**
 * @since 0.1.0
 */
export * as GoogleProvider from "./GoogleProvider.js"

/**
 * @since 0.1.0
 */
export * as GoogleStudioProvider from "./GoogleStudioProvider.js"

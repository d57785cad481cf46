/**
 * @since 0.1.0
 */
export * as FakeImage from "./FakeImage.js"

/**
 * @since 0.1.0
 */
export * as FakeRequest from "./FakeRequest.js"

/**
 * @since 0.1.0
 */
export * as FakeResponse from "./FakeResponse.js"

/**
 * @since 0.1.0
 */
export * as FakeRoute from "./FakeRoute.js"

/**
 * @since 0.1.0
 */
export * as FakeServer from "./FakeServer.js"

/**
 * @since 0.1.0
 */
export * as Fault from "./Fault.js"

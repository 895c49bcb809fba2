// Package registry holds what every client of container registries in
// lambdaimg shares: where credentials come from (Keychain) and an HTTP
// transport that retries rate limits, server errors and dropped
// connections (NewRetryTransport). push and verify both use it.
package registry

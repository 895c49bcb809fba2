// Package registrytest serves in-process OCI registries for tests and
// benchmarks, and builds small Lambda-shaped test images.
//
// A Registry is ggcr's registry.New behind a chain of handlers that make it
// behave like the registries lambdaimg publishes to and fail like them:
//
//   - blobs are scoped to their repository (as on Docker Hub and ECR), with
//     cross-repository mounts (POST ?mount=&from=) and a manifest PUT that
//     is refused while a blob it references is missing;
//   - HTTP basic auth, or bearer tokens issued by a token endpoint;
//   - injected faults: 500 and 503, 429 with Retry-After, dropped
//     connections and slow responses, chosen by a seeded RNG and capped per
//     request so that a client that retries always gets through;
//   - a fixed per-request latency, for benchmarks;
//   - a hook called on every request (to cancel a client midway), and a log
//     of every request that reached the registry, to count blob uploads,
//     mounts and bytes.
//
// The image helpers build deterministic images from a shared "OS" layer, a
// shared architecture-independent layer and a per-runtime layer holding
// /lambda-entrypoint.sh and a tiny ELF file for the image's architecture,
// and put them into a pkg/store.
package registrytest

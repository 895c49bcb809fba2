// Package ci writes the CI configuration of scheduled rebuilds: a GitHub
// Actions workflow that plans (lambdaimg plan), builds and smoke-tests
// each changed target on a native runner of its architecture, and
// publishes only when every build passed. It only generates text; running
// the workflow is GitHub's job.
package ci

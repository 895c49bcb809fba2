// Package config reads lambdaimg's user configuration file: where it is
// ($LAMBDAIMG_CONFIG, --config, else <user config dir>/lambdaimg/config.yaml)
// and what it says. Today that is builders:, the pool of BuildKit builders
// a build uses when no --builder, --addr nor BUILDKIT_HOST names one, in
// the form of the catalog's defaults.builders. It decodes strictly: an
// unknown key or a bad builder is an error naming the file and line.
package config

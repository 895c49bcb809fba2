package catalog

// Catalog is the decoded form of runtimes.yaml.
type Catalog struct {
	// Extends, when set to "builtin", makes this catalog an overlay on the
	// embedded one: its runtimes and variants are added (or replace those of
	// the same id and name) and its non-empty defaults win.
	Extends   string                        `yaml:"extends,omitempty"`
	Defaults  Defaults                      `yaml:"defaults"`
	Languages map[Language]LanguageDefaults `yaml:"languages"`
	Runtimes  []Runtime                     `yaml:"runtimes"`

	file string                    // where it was read from, for messages
	pos  map[string]map[string]int // file -> YAML path -> line, for messages
}

// Defaults apply to every runtime.
type Defaults struct {
	// Namespace is the registry namespace images are published under.
	Namespace string `yaml:"namespace,omitempty"`
	// AWSRegistry is where AWS publishes its base images.
	AWSRegistry string `yaml:"awsRegistry,omitempty"`
	// RIE pins the Runtime Interface Emulator release layered into custom images.
	RIE RIE `yaml:"rie,omitempty"`
	// Labels are added to every image.
	Labels map[string]string `yaml:"labels,omitempty"`
	// RegistryMirrors redirects base-image pulls: registry host -> mirror host[/path].
	RegistryMirrors map[string]string `yaml:"registryMirrors,omitempty"`
	// Registries are the repositories prefixes images are pushed to.
	Registries []string `yaml:"registries,omitempty"`
	// SourceDate (YYYY-MM-DD) is the default SOURCE_DATE_EPOCH of builds:
	// the timestamps in images come from the catalog, not the clock, so the
	// same inputs give the same digests.
	SourceDate string `yaml:"sourceDate,omitempty"`
	// Builders are the BuildKit daemons builds use, as --builder takes
	// them (see pkg/buildkit/spec): ADDR[,cacert=..,cert=..,key=..,
	// servername=..,platform=..,jobs=N].
	Builders []string `yaml:"builders,omitempty"`
}

// RIE pins a Runtime Interface Emulator release.
type RIE struct {
	Version string `yaml:"version,omitempty"`
	// URL is the download address; {version} and {arch} are replaced.
	URL    string          `yaml:"url,omitempty"`
	SHA256 map[Arch]string `yaml:"sha256,omitempty"`
}

// LanguageDefaults hold what every runtime of a language shares.
type LanguageDefaults struct {
	// Image is the repository name of AWS's base image (public.ecr.aws/lambda/<image>).
	Image string `yaml:"image"`
	// RIC is the default Runtime Interface Client version.
	RIC string `yaml:"ric,omitempty"`
	// Handler is the sample handler used by smoke tests and CMD.
	Handler string `yaml:"handler,omitempty"`
	// Variants give per-variant defaults; {version} is replaced by the
	// runtime's language version.
	Variants map[string]Variant `yaml:"variants,omitempty"`
	// OS says, per OS family, what the language's templates take from it.
	// It applies to every variant of that family, whatever its name.
	OS map[OS]OSNeeds `yaml:"os,omitempty"`
	// Missing says, per OS family (or "all"), why the language's runtimes
	// have no variant there; see Catalog.Missing.
	Missing map[OS]string `yaml:"missing,omitempty"`
}

// OSNeeds is what a language's Dockerfile templates take from one OS family:
// which template, and the OS's names for the packages it installs ({version}
// is replaced). They are the template's own needs; a variant's packages and
// buildPackages come on top.
type OSNeeds struct {
	// Template names the Dockerfile template of the family's variants:
	// templates/<language>/<template>.Dockerfile.tmpl. Empty means the
	// language's templates/<language>/Dockerfile.tmpl.
	Template string `yaml:"template,omitempty"`
	// BuildDepends are installed in the build stage, Depends in the final
	// image.
	BuildDepends []string `yaml:"buildDepends,omitempty"`
	Depends      []string `yaml:"depends,omitempty"`
}

// Runtime is one Lambda runtime, e.g. python3.12.
type Runtime struct {
	ID            string   `yaml:"id"`
	Language      Language `yaml:"language"`
	Version       string   `yaml:"version"`
	Tags          []string `yaml:"tags"`
	OS            OS       `yaml:"os"`
	Architectures []Arch   `yaml:"architectures"`
	Deprecated    string   `yaml:"deprecated,omitempty"`
	BlockCreate   string   `yaml:"blockCreate,omitempty"`
	BlockUpdate   string   `yaml:"blockUpdate,omitempty"`
	// Default names the variant built when none is asked for. Empty means
	// the runtime's own AWS OS built from source, or "aws" on Amazon Linux
	// 2018.03 (the RIC does not support it).
	Default string `yaml:"default,omitempty"`
	// RIC overrides the language's Runtime Interface Client version.
	RIC string `yaml:"ric,omitempty"`
	// Variants the runtime can be built as, with overrides of the language's
	// variant defaults.
	Variants map[string]Variant `yaml:"variants"`
	// Missing says, per OS family (or "all"), why this runtime has no
	// variant there; it wins over the language's.
	Missing map[OS]string `yaml:"missing,omitempty"`

	file string // the catalog file this entry came from
}

// Variant says how one variant of a runtime is built.
type Variant struct {
	// OS is the family, which selects the packages the template installs
	// (and its template, see OSNeeds). It defaults to the variant's name when
	// that is a family (alpine3.20 -> alpine).
	OS OS `yaml:"os,omitempty"`
	// Template names the Dockerfile template,
	// templates/<language>/<template>.Dockerfile.tmpl, overriding the OS
	// family's. The aws variant always uses templates/aws.Dockerfile.tmpl.
	Template string `yaml:"template,omitempty"`
	// Base is the image of the final stage; BuildBase the one of the build
	// stage (default Base).
	Base      string `yaml:"base,omitempty"`
	BuildBase string `yaml:"buildBase,omitempty"`
	// Packages are OS packages installed in the final image (the language
	// runtime where the base lacks it, plus extras); BuildPackages only in
	// the build stage.
	Packages      []string `yaml:"packages,omitempty"`
	BuildPackages []string `yaml:"buildPackages,omitempty"`
	// RIC overrides the Runtime Interface Client version.
	RIC string `yaml:"ric,omitempty"`
	// RIE false leaves the emulator out (for production images whose
	// scanners flag it).
	RIE *bool `yaml:"rie,omitempty"`
	// Architectures restricts the runtime's architectures for this variant.
	Architectures []Arch `yaml:"architectures,omitempty"`
	// Args are build-argument defaults the template may use, such as the
	// full language version to build from source where the OS lacks a
	// package. {version} is replaced.
	Args map[string]string `yaml:"args,omitempty"`
	// Labels are added to this variant's images.
	Labels map[string]string `yaml:"labels,omitempty"`
	// Extensions are Lambda extensions added under /opt/extensions:
	// directories, zip files or executables, relative to the catalog file.
	Extensions []string `yaml:"extensions,omitempty"`
}

// File returns the name the catalog was read from.
func (c *Catalog) File() string { return c.file }

// Runtime returns the runtime with the given id.
func (c *Catalog) Runtime(id string) (*Runtime, bool) {
	for i := range c.Runtimes {
		if c.Runtimes[i].ID == id {
			return &c.Runtimes[i], true
		}
	}
	return nil, false
}

// DefaultVariant returns the variant built when none is asked for.
func (r *Runtime) DefaultVariant() string {
	switch {
	case r.Default != "":
		return r.Default
	case r.OS == AL201803:
		return string(AWS)
	default:
		return string(r.OS)
	}
}
